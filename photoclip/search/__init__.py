"""Natural-language and example-image search over a library's vectors."""

from photoclip.search.filters import Filters
from photoclip.search.query import Query, QueryError, Term, parse_query
from photoclip.search.searcher import Searcher, SearchHit, SearchResult

__all__ = ["Filters", "Query", "QueryError", "SearchHit", "SearchResult", "Searcher", "Term", "parse_query"]
# The hybrid searcher (meaning + words) lives in photoclip.search.hybrid; it imports the keyword index,
# so it is not imported here to keep `import photoclip.search` light.
