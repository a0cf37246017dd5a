"""An officer's or an invite's areas as one line of text, in the reader's language."""

from __future__ import annotations

from bot.services import Services
from texts.catalog import Html, text


def scope_text(services: Services, areas: tuple[str, ...], all_areas: bool, language: str) -> Html:
    """An invite's areas, in `language`."""
    if all_areas:
        return text(language, "all_areas")
    return Html(", ".join(
        text(language, "area_item", name=services.areas.name(code, language) or code)
        for code in areas
    ))
