"""Size limits for every event on the wire.

Each bound protects the worker's memory and latency from one bad producer; a message that breaks
one is dead-lettered with the limit's name in its reason. Raise them here, nowhere else.
"""

# A whole Kafka message: larger than any real posting (the longest of 665 real ones is ~25 KB)
# yet far below the broker's default 1 MB cap, so the dead-letter copy always fits.
MAX_MESSAGE_BYTES = 512 * 1024

# Identifiers: long enough for UUIDs, URNs and composite keys; short enough to log and index.
MAX_ID_CHARS = 200

# Posting fields. 100k characters is ~4x the longest real posting; the compressor cuts far below.
MAX_TITLE_CHARS = 300
MAX_DESCRIPTION_CHARS = 100_000
MAX_FIELD_CHARS = 300  # company, location, seniority, work type
MAX_SKILLS = 100
MAX_SKILL_CHARS = 100

# Queries: a search box, not a document.
MAX_QUERY_CHARS = 500
# Candidates per request: the contract's ceiling (a first-stage retriever's page).
MAX_CANDIDATES = 1000
# A query's relative deadline: a search answer later than an hour has no reader left.
MAX_DEADLINE_MS = 3_600_000
