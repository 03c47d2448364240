"""Pure parsing of Google Business Profile v4 review payloads (no I/O, no clock).

Shapes from the v4 Review reference
(https://developers.google.com/my-business/reference/rest/v4/accounts.locations.reviews):
`{"reviews": [Review], "averageRating", "totalReviewCount", "nextPageToken"}`, where a Review is
`{"name", "reviewId", "reviewer": {"displayName", "profilePhotoUrl", "isAnonymous"}, "starRating",
"comment", "createTime", "updateTime", "reviewReply"}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import IncomingEvent
from connectors.http_common import parse_utc

#: StarRating enum -> stars; STAR_RATING_UNSPECIFIED (or anything new) gives no rating.
STARS: dict[str, int] = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}


@dataclass(frozen=True)
class ParsedReview:
    """A review as an event, plus its `updateTime` (what the list is ordered by and the cursor holds)."""

    event: IncomingEvent
    updated_at: datetime


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_utc(value)
    except ValueError:
        return None


def parse_review(raw: Mapping[str, Any], *, fetched_at: datetime) -> ParsedReview | None:
    """One v4 Review as a `review` event; None when it has no reviewId (the caller counts those).

    `comment` is absent for a rating-only review (text ""). The reviewer's name is only real when
    `isAnonymous` is false; otherwise Google shows a placeholder such as "A Google user", which is
    not an identity, so the author is None. A missing time falls back to the other one, then to
    `fetched_at`, so a review is never dropped for a missing timestamp.
    """
    review_id = raw.get("reviewId")
    if not isinstance(review_id, str) or not review_id:
        return None
    reviewer = raw.get("reviewer")
    reviewer = reviewer if isinstance(reviewer, dict) else {}
    name = reviewer.get("displayName")
    author = name if isinstance(name, str) and name and not reviewer.get("isAnonymous") else None
    comment = raw.get("comment")
    created = _time(raw.get("createTime"))
    updated = _time(raw.get("updateTime"))
    event = IncomingEvent(
        platform="google",
        kind="review",
        external_id=review_id,
        text=comment if isinstance(comment, str) else "",
        created_at=created or updated or fetched_at,
        author_handle=author,
        rating=STARS.get(str(raw.get("starRating"))),
    )
    return ParsedReview(event, updated or created or fetched_at)


def parse_reviews_page(body: Mapping[str, Any], *, fetched_at: datetime) -> tuple[list[ParsedReview], int, str | None]:
    """(reviews, number skipped for lack of an id, next page token) of one list response.

    An empty location answers `{}` (no "reviews" key at all).
    """
    raw_reviews = body.get("reviews")
    items: list[object] = raw_reviews if isinstance(raw_reviews, list) else []
    parsed = [parse_review(r, fetched_at=fetched_at) if isinstance(r, dict) else None for r in items]
    reviews = [p for p in parsed if p is not None]
    token = body.get("nextPageToken")
    return reviews, len(items) - len(reviews), token if isinstance(token, str) and token else None
