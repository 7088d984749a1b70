"""The HTTP/JSON edge: the contract's google.api.http routes over gRPC, OpenAPI, docs and probes."""
