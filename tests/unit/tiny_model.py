"""A tiny random BERT classifier built locally in a fraction of a second (no downloads)."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

SENTENCES = [
    "join the fighters and travel to the front", "police said the attack injured three people",
    "we reject violence and stand with the victims", "glory to the heroes of the operation",
    "the study analyses propaganda videos", "join us for the open day at the mosque",
    "send money to the brigade", "the court sentenced a recruiter", "the union is recruiting members",
    "a survivor writes to young men", "the government banned the group", "brothers answer the call",
] * 4


def build_tiny_model(path: Path, labels=("recruitment", "propaganda"), thresholds=None, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.train_from_iterator(SENTENCES, trainers.WordPieceTrainer(
        vocab_size=300, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
                                                             special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    config = BertConfig(vocab_size=tokenizer.get_vocab_size(), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128,
                        num_labels=len(labels), problem_type="multi_label_classification",
                        id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)})
    BertForSequenceClassification(config).save_pretrained(path)
    fast.save_pretrained(path)
    if thresholds is not None:
        (path / "vigil.json").write_text(json.dumps({"name": "tiny", "version": "tiny-1", "labels": list(labels),
                                                     "thresholds": thresholds}))
    return path
