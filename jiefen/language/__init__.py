"""Language tools for Jiefen: classification, extraction, risk flags, similar cases and hotspots.

This package is plain Python (no Django imports) so that models can be trained, benchmarked and reused on
files alone. The Django side calls into it at intake and stores what it returns, with its explanation.

Modules:
    text      normalisation and tokenisation (jieba, char n-grams)
    io        reading labelled tables (CSV, TSV, XLSX, JSON lines)
    classify  supervised classifier (``train`` / ``Model``) and the keyword fallback (``KeywordModel``)
    extract   places, organisations, phones, ID numbers, money, head counts, dates — with spans
    risk      risk flags with the words that raised them, an overall level and an urgency
    similar   related-case search: a stable vectoriser plus a shareable on-disk IVF index
    hotspots  clustering a time window of messages into hotspots with a heat index
"""
