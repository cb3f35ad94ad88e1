"""The query language on its own: operators, weights, image terms and the errors people will hit."""

from __future__ import annotations

from pathlib import Path

import pytest

from photoclip.errors import QueryError
from photoclip.search.query import Term, parse_query


@pytest.fixture
def images(tmp_path: Path) -> Path:
    (tmp_path / "dog.jpg").write_bytes(b"x")
    (tmp_path / "my dog-2.png").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    return tmp_path


def terms(text: str, cwd: Path | None = None) -> tuple[Term, ...]:
    return parse_query(text, cwd=cwd).terms


def test_plain_text_is_one_term_with_spaces_collapsed():
    assert terms("  a dog   on the beach ") == (Term(1.0, text="a dog on the beach"),)


def test_weighted_plus_and_minus_terms():
    assert terms("2:beach + sunset - people") == (
        Term(2.0, text="beach"), Term(1.0, text="sunset"), Term(-1.0, text="people"))
    assert terms("0.5:snow") == (Term(0.5, text="snow"),)
    assert terms("beach -0.25:people") == (Term(1.0, text="beach"), Term(-0.25, text="people"))
    assert terms("-people") == (Term(-1.0, text="people"),)


def test_dash_and_plus_inside_words_are_not_operators():
    assert terms("t-shirt on a washing-line") == (Term(1.0, text="t-shirt on a washing-line"),)
    assert terms("c+d and 3-4 year olds") == (Term(1.0, text="c+d and 3-4 year olds"),)


def test_quoted_text_is_never_split():
    assert terms('"red - blue" + sky') == (Term(1.0, text="red - blue"), Term(1.0, text="sky"))
    assert terms("don't panic") == (Term(1.0, text="don't panic"),)


def test_image_terms_relative_quoted_and_home(images, monkeypatch):
    assert terms("./dog.jpg + snow", images) == (Term(1.0, image=images / "dog.jpg"), Term(1.0, text="snow"))
    assert terms('"my dog-2.png" - 2:people', images) == (
        Term(1.0, image=images / "my dog-2.png"), Term(-2.0, text="people"))
    monkeypatch.setenv("HOME", str(images))
    assert terms("~/dog.jpg") == (Term(1.0, image=images / "dog.jpg"),)
    assert parse_query("dog.jpg", cwd=images).images_only
    assert not parse_query("dog.jpg + snow", cwd=images).images_only


def test_a_file_without_an_image_extension_is_text(images):
    assert terms("notes.txt", images) == (Term(1.0, text="notes.txt"),)


@pytest.mark.parametrize(("query", "reason"), [
    ("", "empty"),
    ("   ", "empty"),
    ("2:", "no term"),
    ("2: + snow", "no term"),
    ("beach +", "needs a term"),
    ("beach + - people", "follows another operator"),
    ('"unclosed', "never closed"),
    ("0:beach", "more than 0"),
    ("./missing.jpg + snow", "does not exist"),
])
def test_clear_errors(query, reason, images):
    with pytest.raises(QueryError, match=reason):
        parse_query(query, cwd=images)
