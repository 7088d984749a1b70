"""The dashboard's pure part: plain records of what each panel shows, and the rules that make them
(formatting, counts, series, chains). No Starlette, gRPC or generated contract here: the feeds and
pages translate to and from these records."""
