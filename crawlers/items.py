"""What spiders yield: a fetched page, before extraction."""
import scrapy


class PageItem(scrapy.Item):
    url = scrapy.Field()
    status = scrapy.Field()
    content_type = scrapy.Field()
    html = scrapy.Field()  # decoded with the response's detected encoding
    source = scrapy.Field()
    language_hint = scrapy.Field()
    depth = scrapy.Field()
    crawl_job = scrapy.Field()
    spider = scrapy.Field()
    fetched_at = scrapy.Field()
    etag = scrapy.Field()  # validators, for conditional requests on the next run
    last_modified = scrapy.Field()
    published_hint = scrapy.Field()  # from a feed entry or sitemap, when the page itself has no date
    sitemap_lastmod = scrapy.Field()
    # Posts and messages are cut out by their spider: text, title and author come ready, with post details.
    text = scrapy.Field()
    title = scrapy.Field()
    author = scrapy.Field()
    post = scrapy.Field()  # streams.schemas.PostInfo fields
    archive = scrapy.Field()  # streams.schemas.ArchiveRef fields: the WARC capture of the response
    raw_response = scrapy.Field()  # status, headers and body, for the archive (written by the pipeline)
    image_urls = scrapy.Field()  # the images it shows, to fetch and hash (crawlers/images.py)
