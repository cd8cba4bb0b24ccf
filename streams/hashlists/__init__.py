"""Known-content matching: hash lists of confirmed terrorist content (GIFCT's hash-sharing database, an HMA
bank, Vigil's own reviewed decisions), their exchange formats, and an in-memory matcher over them.

Import the modules themselves (banks, formats, images, index, ...): the stores need only banks, and must not
load faiss and datasketch with it."""
