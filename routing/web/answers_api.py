"""Canned answers: managed by the admin (`/api/v1/answers`, the admin token), listed for
staff at `GET /api/v1/triage/answers` (docs/contracts.md §3)."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response, status
from pydantic import BaseModel, StringConstraints

from domain.web import SessionDep, gated, refusals
from routing.ticketing import answers
from routing.ticketing.models import CannedAnswer
from routing.ticketing.triage import MAX_TEXT
from routing.web.staff_api import StaffDep

NOT_FOUND = "Svarsmallen finns inte."
# A slug: it goes into the desk's URL (?svar=…) as it is.
AnswerId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]

_routes = APIRouter(prefix="/answers", tags=["admin"], responses=refusals(404, 413))
staff_router = APIRouter(prefix="/triage", tags=["triage"], responses=refusals(401, 403))


class AnswerIn(BaseModel):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)
    ]


def public(answer: CannedAnswer) -> dict[str, Any]:
    return answer.model_dump(mode="json")


def build_admin_router(*, require_admin: Callable[..., Any]) -> APIRouter:
    return gated(require_admin, _routes)


@_routes.get("")
async def list_all(session: SessionDep) -> list[dict[str, Any]]:
    return [public(a) for a in await answers.list_answers(session=session)]


@_routes.get("/{answer_id}")
async def one(answer_id: AnswerId, session: SessionDep) -> dict[str, Any]:
    answer = await answers.get_answer(session=session, answer_id=answer_id)
    if answer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return public(answer)


@_routes.put("/{answer_id}", responses={201: {"description": "Skapat."}})
async def put(
    answer_id: AnswerId, body: AnswerIn, session: SessionDep, response: Response
) -> dict[str, Any]:
    """Create (201) or replace (200) the answer with this id."""
    answer, created = await answers.put_answer(
        session=session, answer_id=answer_id, title=body.title, text=body.text
    )
    await session.commit()
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return public(answer)


@_routes.delete("/{answer_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(answer_id: AnswerId, session: SessionDep) -> Response:
    if not await answers.delete_answer(session=session, answer_id=answer_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@staff_router.get("/answers")
async def for_staff(session: SessionDep, me: StaffDep) -> list[dict[str, Any]]:
    """What staff can start an answer from, by title."""
    return [public(a) for a in await answers.list_answers(session=session)]
