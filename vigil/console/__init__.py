"""The review console: a small web app over the store where analysts work through queues of flagged
items, read each with its evidence and record decisions with reasons (`vigil console`)."""
