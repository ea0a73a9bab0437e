"""The local SQLite store: models, opening and migrating the file, and the queries the app needs."""
