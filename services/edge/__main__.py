"""python -m services.edge: the HTTP/JSON edge in front of the services."""

from services.edge.process import main

if __name__ == "__main__":
    main()
