"""The edge's live dashboard at `/` (services/edge/dashboard/app.py: `Dashboard`): server-rendered
panels kept live by server-sent events, each fed by one streaming RPC of the service that owns its
figures. Its pure part, domain/, imports nothing of this package's web or gRPC side."""
