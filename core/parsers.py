"""The API's JSON parser (the REST framework's DEFAULT_PARSER_CLASSES names it)."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """The REST framework's JSON parser, with a body nested too deeply for the decoder
    (``[[[[…`` by the hundred thousand) refused as a parse error (400) instead of a server
    error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
