from crawlers.extract import canonical_url, detect_language, extract, hamming, pseudonymise, simhash64

TEXT = ("Police said three people were injured on Tuesday when a man attacked shoppers at the central market. "
        "Investigators are examining whether the suspect had contact with a banned group. ") * 3


def test_canonical_url():
    assert canonical_url("HTTP://Example.ORG:80/a?utm_source=x&b=2&a=1#frag") == "http://example.org/a?a=1&b=2"
    assert canonical_url("https://example.org:8443") == "https://example.org:8443/"


def test_simhash_marks_near_duplicates():
    near = TEXT.replace("Tuesday", "Wednesday")
    other = "A recipe for bread: flour, water, salt and yeast, kneaded and baked for forty minutes. " * 3
    assert hamming(simhash64(TEXT), simhash64(near)) < hamming(simhash64(TEXT), simhash64(other))
    assert hamming(simhash64(TEXT), simhash64(near)) <= 12
    assert simhash64(TEXT) == simhash64(TEXT)


def test_extraction_leaves_boilerplate_out():
    html = (f"<html><head><title>Report</title></head><body><nav>Home News Sport</nav><article><p>{TEXT}</p>"
            "</article><footer>Copyright cookie settings</footer></body></html>")
    got = extract(html, "https://example.org/a", 10_000)
    assert "central market" in got.text and "Copyright" not in got.text and "Home News" not in got.text
    assert got.title == "Report"


def test_broken_and_empty_html_do_not_raise():
    assert extract("<html><body><p>Unclosed <b>bold and </td> stray tags here", "https://e.org/", 1000).text
    assert extract("", "https://e.org/", 1000).text == ""
    assert extract("\x00\x01binary", "https://e.org/", 1000).text in ("", "\x01binary")


def test_language_detection_offline():
    assert detect_language(TEXT)[0] == "en"
    assert detect_language("Полиция сообщила, что трое человек пострадали при нападении на рынке.")[0] == "ru"
    assert detect_language("short", hint="ar") == ("ar", 0.0)


def test_authors_are_pseudonymised_with_a_key():
    assert pseudonymise("Jane Roe", b"k1") == pseudonymise(" jane roe ", b"k1")
    assert pseudonymise("Jane Roe", b"k1") != pseudonymise("Jane Roe", b"k2")
    assert "jane" not in pseudonymise("Jane Roe", b"k1").lower()


def test_main_text_without_boilerplate_on_pages_with_known_text():
    from tests.extraction_pages import MAIN_TEXTS, page, precision_recall

    for key in MAIN_TEXTS:
        html, expected = page(key)
        extracted = extract(html, f"https://daily.example/{key}", 50_000)
        precision, recall = precision_recall(extracted.text, expected)
        assert recall >= 0.95, (key, recall)
        assert precision >= 0.85, (key, precision)  # cookie banners, menus, sidebars, comments, footers kept out
        for boilerplate in ("cookie", "Subscribe", "Most read", "All rights reserved", "Great article"):
            assert boilerplate not in extracted.text, (key, boilerplate)
        assert extracted.title == MAIN_TEXTS[key][0]


def test_an_index_page_is_not_judged_by_the_headlines_it_links_to():
    listing = ("<html><head><title>Home</title></head><body><h1>Riverside Observer</h1><ul>"
               + "".join(f'<li><a href="/p{i}.html">Join the fighters of the brigade, part {i}</a></li>'
                         for i in range(8))
               + '<li>Our weekly column by <a href="/a.html">the editor</a> on the council budget</li></ul>'
               "<p>Read the <a href='/x'>full report</a> on the flood defences.</p></body></html>")
    text = extract(listing, "http://x/", 10_000).text
    assert "Join the fighters" not in text  # each linked page is crawled and classified as itself
    assert "weekly column by" in text and "the editor" in text  # an item with words of its own stays whole
    assert "full report" in text  # links inside prose stay
