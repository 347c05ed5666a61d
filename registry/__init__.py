"""The system of record: SQLAlchemy models, migrations, the watchlist and the service layer."""
