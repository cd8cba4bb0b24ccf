"""Text signals: the exact hash survives re-casing and re-punctuation; the MinHash finds a known passage after
edits and inside a long page, in English, Russian and Arabic, and leaves news about the same event alone."""
from __future__ import annotations

import re

import pytest

from streams.hashlists import text as t
from streams.hashlists.banks import Entry, HashList
from streams.hashlists.index import HashIndex

# Invented for the tests: a fictional group, place and attack, in the register of a recruitment statement.
EN = ("Brothers and sisters, the hour has come. The Iron Crescent Brigade calls every faithful young man to leave "
      "the comfort of the cities and join the caravan of the righteous in the mountains of Varkesh. Our martyrs at "
      "the Delmar bridge showed the world that the oppressors tremble before true believers. Do not wait for "
      "permission from your parents or your imams. Pack your bags, cut your ties with the unbelievers, and contact "
      "our brothers through the channel below. Victory or paradise awaits you.")
RU = ("Братья и сёстры, час настал. Бригада «Железный полумесяц» призывает каждого верного юношу покинуть уютные "
      "города и присоединиться к каравану праведных в горах Варкеша. Наши мученики у моста Дельмар показали миру, "
      "что угнетатели трепещут перед истинно верующими. Не ждите разрешения от родителей или имамов. Собирайте "
      "вещи, разорвите связи с неверными и свяжитесь с нашими братьями через канал ниже. Вас ждёт победа или рай.")
AR = ("أيها الإخوة والأخوات، لقد حانت الساعة. إن كتيبة الهلال الحديدي تدعو كل شاب مؤمن إلى ترك راحة المدن "
      "والالتحاق بقافلة الصادقين في جبال فاركيش. لقد أظهر شهداؤنا عند جسر دلمار للعالم أن الظالمين يرتجفون أمام "
      "المؤمنين الحقيقيين. لا تنتظروا إذنًا من آبائكم أو أئمتكم. احزموا أمتعتكم، واقطعوا صلتكم بالكفار، وتواصلوا "
      "مع إخوانكم عبر القناة أدناه. النصر أو الجنة في انتظاركم.")

# Reporting on the same (fictional) attack, written independently: same names, different text.
NEWS = {
    "en": ("Security officials in Varkesh said on Tuesday that a bombing near the Delmar bridge killed four people "
           "and injured a dozen others. A militant group calling itself the Iron Crescent Brigade claimed "
           "responsibility in an online statement. Analysts warned that the group has been using social media to "
           "recruit young men from the cities, and police urged parents to report signs of radicalisation. The "
           "statement called on believers to travel to the mountains, a message researchers described as typical "
           "of the group's propaganda."),
    "ru": ("Во вторник силовые структуры Варкеша сообщили, что в результате взрыва возле моста Дельмар погибли "
           "четыре человека, ещё около десяти получили ранения. Ответственность за нападение в интернете взяла на "
           "себя группировка, называющая себя «Железный полумесяц». Эксперты предупреждают, что она вербует "
           "молодых людей через социальные сети, а полиция призвала родителей сообщать о признаках радикализации."),
    "ar": ("قال مسؤولون أمنيون في فاركيش يوم الثلاثاء إن انفجارًا قرب جسر دلمار أسفر عن مقتل أربعة أشخاص وإصابة "
           "نحو عشرة آخرين. وأعلنت جماعة مسلحة تطلق على نفسها اسم كتيبة الهلال الحديدي مسؤوليتها عن الهجوم في "
           "بيان نشر على الإنترنت. وحذر محللون من أن الجماعة تستخدم وسائل التواصل الاجتماعي لتجنيد الشباب، فيما "
           "دعت الشرطة الأهالي إلى الإبلاغ عن علامات التطرف."),
}
PASSAGES = {"en": EN, "ru": RU, "ar": AR}
# Words swapped in the copies: a forwarder's rewording (synonyms, dropped and changed words).
EDITS = {
    "en": {"hour": "time", "faithful": "devoted", "mountains": "hills", "tremble": "shake", "bags": "things"},
    "ru": {"настал": "пришёл", "верного": "преданного", "горах": "холмах", "вещи": "сумки", "канал": "чат"},
    "ar": {"حانت": "جاءت", "مؤمن": "صادق", "جبال": "تلال", "أمتعتكم": "حقائبكم", "القناة": "المجموعة"},
}
FILLER = ("The farmers market opens at eight on Saturdays and the bakery stall usually sells out of rye bread by "
          "ten. This week the council repainted the bandstand, and the brass band from the secondary school will "
          "play there on Sunday afternoon if the weather holds. Parking on Mill Street is free after six, and the "
          "library has extended its opening hours during the exam season. Volunteers are still needed for the "
          "river clean-up, which starts from the old boathouse. ")
LIST = HashList(name="test-list", source="tests", terms="test data", default_label="recruitment")


def edited(passage: str, lang: str) -> str:
    """The passage with words swapped and its punctuation redone: commas dropped, full stops as '!!', a dash."""
    out = passage
    for old, new in EDITS[lang].items():
        out = out.replace(old, new, 1)
    return re.sub(r"[.،,]", lambda m: {".": " !!", "،": "", ",": ""}[m.group()], out).replace(" و", " — و", 1)


def long_page(passage: str) -> str:
    """An ordinary page of about 1,000 words with the passage in its middle."""
    blocks = [f"{FILLER}Update {i}: stalls {i + 3} to {i + 9} have moved." for i in range(12)]
    return " ".join(blocks[:6] + [passage] + blocks[6:])


def index_of(*passages: str) -> HashIndex:
    entries = [(LIST, Entry(id=f"p{i}", signal_type="text_minhash", value=t.signature(p))) for i, p in
               enumerate(passages)]
    entries += [(LIST, Entry(id=f"x{i}", signal_type="text_exact", value=t.exact_hash(p), label="propaganda"))
                for i, p in enumerate(passages)]
    return HashIndex(entries)


@pytest.fixture(scope="module")
def index() -> HashIndex:
    return index_of(EN, RU, AR)


def test_normalise_across_scripts():
    assert t.normalise("  Hello,   WORLD!! Visit https://example.com/x?y=1 or @Recruiter_99 … ") == \
        "hello world visit xurlx or xuserx"
    assert t.normalise("ПРИВЕТ, Мир!") == "привет мир"
    assert t.normalise("الْجِهَادُ فـــي") == t.normalise("الجهاد في")  # diacritics and tatweel
    assert t.normalise("ﬁne ２０２４") == "fine 2024"  # NFKC: ligature and full-width digits
    assert t.tokens(t.normalise("中文，测试。abc")) == ["中", "文", "测", "试", "abc"]


def test_exact_hash_survives_case_whitespace_and_punctuation():
    variant = EN.upper().replace(",", " ;").replace(". ", "...\n\n  ")
    assert t.exact_hash(variant) == t.exact_hash(EN)
    assert t.exact_hash(EN.replace("Varkesh", "Varkosh")) != t.exact_hash(EN)


def test_signature_round_trips_and_refuses_garbage():
    signature = t.signature(EN)
    chunks = t.parse_signature(signature)
    assert len(chunks) == len(t.chunks(EN)) >= 2
    assert t.serialise(chunks) == signature
    for bad in ("mh2:abc", "mh1:", "mh1:!!!", "mh1:" + "A" * 40):
        with pytest.raises(ValueError):
            t.parse_signature(bad)
    with pytest.raises(ValueError, match="too short"):
        t.signature("a few words only")


@pytest.mark.parametrize("lang", ["en", "ru", "ar"])
def test_edited_and_repunctuated_copy_matches(index, lang):
    copy = edited(PASSAGES[lang], lang)
    assert t.exact_hash(copy) != t.exact_hash(PASSAGES[lang])
    matches = [m for m in index.match_text(copy) if m.signal_type == "text_minhash"]
    assert [m.entry for m in matches] == [f"p{list(PASSAGES).index(lang)}"]
    assert matches[0].distance <= 1 - index.text_threshold
    assert matches[0].label == "recruitment"  # the list's default: the entry has none


@pytest.mark.parametrize("lang", ["en", "ru", "ar"])
def test_passage_found_inside_a_long_page(index, lang):
    page = long_page(edited(PASSAGES[lang], lang))
    assert len(t.tokens(t.normalise(page))) > 900
    matches = index.match_text(page)
    assert [(m.entry, m.signal_type) for m in matches] == [(f"p{list(PASSAGES).index(lang)}", "text_minhash")]
    assert len(matches[0].evidence) <= 200
    assert set(t.tokens(matches[0].evidence)) & set(t.tokens(t.normalise(PASSAGES[lang])))


@pytest.mark.parametrize("lang", ["en", "ru", "ar"])
def test_news_about_the_same_event_does_not_match(index, lang):
    assert index.match_text(NEWS[lang]) == []
    assert index.match_text(long_page(NEWS[lang])) == []
    assert index.match_text(FILLER * 3) == []


def test_exact_copy_matches_both_signals_with_their_labels(index):
    matches = {m.signal_type: m for m in index.match_text("  " + AR.replace("،", " ") + " ")}
    assert set(matches) == {"text_exact", "text_minhash"}
    assert matches["text_exact"].distance == 0 and matches["text_exact"].label == "propaganda"
    assert matches["text_minhash"].distance < 0.05


def test_chinese_passage_by_character_shingles():
    zh = ("兄弟姐妹们，时刻已经到来。铁新月旅号召每一位虔诚的年轻人离开城市的安逸，加入瓦尔克什山中正义者的队伍。"
          "我们在德尔马桥的烈士向世界表明，压迫者在真正的信徒面前颤抖。不要等待父母或伊玛目的许可。收拾行装，"
          "与不信者断绝联系，通过下面的频道联系我们的兄弟。胜利或天堂在等待着你。")
    index = index_of(zh)
    copy = zh.replace("，", " ").replace("年轻人", "青年").replace("频道", "群组")
    assert [m.entry for m in index.match_text(FILLER + copy + FILLER)] == ["p0"]
    news = "瓦尔克什安全官员周二表示，德尔马桥附近发生爆炸，造成四人死亡。一个自称铁新月旅的武装团体在网上声称负责。"
    assert index.match_text(news) == []
