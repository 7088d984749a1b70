"""The edge's pure rules: path templates, deadlines, the gRPC to HTTP status mapping. No protobuf,
gRPC or web framework import (tests/contract/test_layering.py holds every domain folder to this)."""
