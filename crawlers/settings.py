"""Scrapy settings for Vigil's crawlers: safe and polite by default.

The ones Vigil's own settings control (user agent, robots.txt, size, time and request limits, log level) come
from them (images too), through crawlers.process.from_vigil, so `scrapy crawl` honours vigil.yaml and VIGIL_*
variables as `vigil crawl` does (which applies the same function to settings built in code)."""

from crawlers.process import from_vigil
from streams.config import load_settings

globals().update(from_vigil(load_settings()))  # USER_AGENT, ROBOTSTXT_OBEY, DOWNLOAD_MAXSIZE, ...

BOT_NAME = "vigil"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# Politeness: few parallel requests per site, delays that adapt to the server's latency.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

# Limits on every download beyond from_vigil's.
REDIRECT_MAX_TIMES = 5
RETRY_TIMES = 2
VIGIL_ALLOWED_CONTENT_TYPES = ["text/html", "application/xhtml+xml", "text/plain"]
# The images pages show (crawlers/images.py): what pages show as pictures and Pillow decodes. Anything else
# served for an image (HTML error pages, octet streams, SVG with its scripts) is refused and counted.
VIGIL_IMAGE_CONTENT_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]

DOWNLOADER_MIDDLEWARES = {
    # Scrapy's offsite and robots.txt middlewares, with a line per refused redirect and a conservative robots.txt.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawlers.middlewares.OffsiteMiddleware": 50,
    "crawlers.middlewares.AddressGuardMiddleware": 60,  # before robots.txt, so robots fetches are guarded too
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawlers.middlewares.RobotsTxtMiddleware": 100,
    "crawlers.middlewares.ContentTypeMiddleware": 560,
    "crawlers.middlewares.ConditionalRequestMiddleware": 580,  # nearer the engine than the content check
    "crawlers.middlewares.PromptStopMiddleware": 990,  # last before the downloader: after robots.txt waits
}
# Bounds on one crawl's work and memory (VIGIL_MAX_REQUESTS, VIGIL_MAX_LINKS_PER_PAGE, from Vigil's settings).
SCHEDULER = "crawlers.limits.BoundedScheduler"
SPIDER_MIDDLEWARES = {"crawlers.limits.LinksPerPageMiddleware": 950}  # nearest the spider: cut links cost no more
EXTENSIONS = {"crawlers.extensions.CrawlStatsPublisher": 500}
ITEM_PIPELINES = {
    "crawlers.pipelines.DocumentPipeline": 300,
    "crawlers.pipelines.PublishPipeline": 800,
}

# One line per dropped item (URL and reason), not the item with its whole page.
LOG_FORMATTER = "crawlers.logformatter.LogFormatter"

# No listening ports: crawls run unattended, often beside other services.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
