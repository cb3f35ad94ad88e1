"""Organizing photos: tags, albums, export, trash."""
