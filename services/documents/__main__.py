"""python -m services.documents: extract and match trade confirmations; answer SOP questions from policies."""

from services.common.serve import main
from services.documents.app import build_service
from services.documents.settings import DocumentsSettings

if __name__ == "__main__":
    main("documents", build_service, DocumentsSettings)
