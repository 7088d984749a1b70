"""A mandate's NAV from market's events: the book (book.py) and its valuation and units
(valuation.py). Reporting values every day end with it; market values its own funds with it to
accrue their management fees on the prior day's NAV, so the fee and the NAV it is charged on are
one computation (docs/reporting-conventions.md)."""
