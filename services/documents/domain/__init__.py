"""documents' pure domain: what a trade confirmation says, in canonical fields.

No gRPC, no generated contract, no telemetry, no storage: the service hands these functions the
bytes (or decoded text) it received and stores or returns what they give back.

- fields.py: CANONICAL_FIELDS, Field (one value with its confidence, page and snippet) and
  Extraction (every field read from one document, its format, layout and warnings)
- normalise.py: printed values to canonical text (decimal_text, canonical_decimal, date_text,
  side_text); a value that cannot be read raises ValueError saying why and what to give instead
- formats.py: detect_format (pdf, mt515, fix44 or text, from the content type and the content)
  and decode_text (UTF-8, else Windows-1252 with a warning)
- mt515.py: parse_mt515, a SWIFT MT515 (client confirmation of purchase or sale) to an Extraction
- fix44.py: parse_fix44, a FIX 4.4 Confirmation (35=AK) to an Extraction
"""
