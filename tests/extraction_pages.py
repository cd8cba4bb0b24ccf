"""Pages with known main text, wrapped in the boilerplate real sites carry (navigation, cookie banners,
share buttons, "most read" sidebars, newsletter boxes, comment widgets, footers), for measuring how
much of the main text extraction keeps (recall) and how much boilerplate it lets in (precision)."""
from __future__ import annotations

import re

NAV = "<nav><ul>" + "".join(f"<li><a href='/{s}'>{s.title()}</a></li>" for s in
                            ("world", "politics", "business", "opinion", "sport", "culture", "video")) + "</ul></nav>"
COOKIES = ("<div id='cookie-banner' class='cookie-consent'><p>We use cookies to improve your experience and to show "
           "personalised advertising. By continuing you accept our cookie policy.</p><button>Accept all</button>"
           "<button>Manage preferences</button></div>")
SHARE = "<div class='share'><a>Share on Facebook</a> <a>Share on X</a> <a>Email this article</a></div>"
MOST_READ = ("<aside class='sidebar'><h3>Most read</h3><ol><li><a>Ten recipes for the perfect winter soup</a></li>"
             "<li><a>Transfer window: every deal so far</a></li><li><a>Why your phone battery dies in the cold</a>"
             "</li></ol></aside>")
NEWSLETTER = ("<div class='newsletter'><h4>Sign up to our morning briefing</h4><p>Get the headlines in your inbox "
              "every day before breakfast.</p><input placeholder='Your email'><button>Subscribe</button></div>")
COMMENTS = ("<section id='comments'><h3>Comments (3)</h3><div class='comment'><b>reader42</b><p>Great article, "
            "thanks for sharing this with us.</p></div><div class='comment'><b>anon</b><p>First! Does anyone know "
            "when the next episode airs?</p></div></section>")
FOOTER = ("<footer><p>© 2026 The Daily Example. All rights reserved.</p><a>Privacy policy</a> <a>Terms of use</a> "
          "<a>Contact us</a> <a>Advertise with us</a></footer>")

MAIN_TEXTS = {
    "news-en": ("Police detain three after market attack", [
        "Police detained three men on Tuesday in connection with the attack on the central market, which injured "
        "eleven people, officials said.",
        "Investigators believe the suspects had been in contact with an online group that praised earlier attacks, "
        "according to a statement from the prosecutor's office.",
        "The market reopened on Wednesday under heavy security. Traders said customers were slowly returning, "
        "although many stalls stayed closed as a mark of respect for the injured.",
        "The interior minister said the government would review how extremist material spreads on messaging apps "
        "and would meet the platforms next month."]),
    "analysis-en": ("How recruiters use short videos", [
        "Recruiters for violent groups have moved from long sermons to short, fast-cut videos that borrow the "
        "language of gaming and sport, researchers say in a new report.",
        "The study examined two thousand clips collected over eighteen months. Most never mention the group by "
        "name; instead they promise belonging, purpose and adventure.",
        "Counter-messaging works best, the authors argue, when it comes from former members and speaks to the same "
        "loneliness the videos exploit rather than lecturing viewers."]),
    "opinion-en": ("We must not let fear divide us", [
        "After every attack the same voices rush to blame whole communities. They are wrong, and they do the "
        "attackers' work for them.",
        "The people who run the market stalls, the nurses who treated the injured and the volunteers who cleaned "
        "the square came from every background this city has.",
        "Condemning violence and refusing collective blame are not opposites. They are the same commitment to "
        "living together."]),
    "news-ru": ("Полиция задержала троих после нападения на рынок", [
        "Во вторник полиция задержала трёх мужчин по делу о нападении на центральный рынок, в результате которого "
        "пострадали одиннадцать человек.",
        "По данным следствия, подозреваемые состояли в переписке с интернет-группой, которая восхваляла прежние "
        "нападения.",
        "В среду рынок вновь открылся под усиленной охраной, однако многие торговцы пока не вернулись к работе."]),
    "news-ar": ("الشرطة تعتقل ثلاثة بعد هجوم السوق", [
        "اعتقلت الشرطة يوم الثلاثاء ثلاثة رجال على صلة بالهجوم على السوق المركزي الذي أسفر عن إصابة أحد عشر شخصا.",
        "ويعتقد المحققون أن المشتبه بهم كانوا على تواصل مع مجموعة على الإنترنت أشادت بهجمات سابقة.",
        "وأعيد فتح السوق يوم الأربعاء وسط إجراءات أمنية مشددة، لكن كثيرا من التجار لم يعودوا بعد."]),
    "blog-en": ("A weekend volunteering at the food bank", [
        "I spent Saturday and Sunday sorting donations at the food bank on Mill Road, and I want to tell you why "
        "you should join us next month.",
        "The work is simple: check dates, sort tins by type, pack boxes for families. The people are the best "
        "part, from students to retired teachers.",
        "If you can spare four hours, sign up on the volunteer page. No experience is needed and there is always "
        "tea."]),
}


def page(key: str) -> tuple[str, str]:
    """(html, main text) for one fixture page."""
    title, paragraphs = MAIN_TEXTS[key]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    direction = " dir='rtl'" if key.endswith("-ar") else ""
    html = (f"<!doctype html><html{direction}><head><meta charset='utf-8'><title>{title} | The Daily Example</title>"
            "</head><body>" + COOKIES + "<header><a class='logo'>The Daily Example</a>" + NAV + "</header>"
            "<div class='breadcrumb'><a>Home</a> › <a>World</a></div><main><article>"
            f"<h1>{title}</h1><p class='byline'>By Staff Reporter · 3 November 2026</p>{SHARE}{body}{SHARE}"
            "</article>" + MOST_READ + NEWSLETTER + "</main>" + COMMENTS + FOOTER + "</body></html>")
    return html, "\n".join(paragraphs)


TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def precision_recall(extracted: str, expected: str) -> tuple[float, float]:
    """Token-level precision and recall (a bag of words: repeated words count as often as they occur)."""
    from collections import Counter

    got, want = Counter(tokens(extracted)), Counter(tokens(expected))
    overlap = sum((got & want).values())
    return overlap / max(1, sum(got.values())), overlap / max(1, sum(want.values()))
