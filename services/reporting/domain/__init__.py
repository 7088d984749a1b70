"""Pure performance maths: no gRPC, contract, telemetry or storage import."""
