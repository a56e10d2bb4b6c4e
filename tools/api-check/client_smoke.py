"""A day's work through a client generated from docs/openapi.json by openapi-python-client.

Usage: client_smoke.py BASE_URL ADMIN_TOKEN, with the generated package `recert_client` on
PYTHONPATH. Creates a program and a learner, awards the program, finds the award in the
learner's list, reads it, verifies it publicly, and checks that a bad request comes back as
the documented problem. Prints "ok" when every answer was the documented one.
"""

import sys
import uuid

from recert_client import AuthenticatedClient, Client
from recert_client.api.awards import awards_create, awards_list, awards_show
from recert_client.api.credentials import credentials_verify
from recert_client.api.learners import learners_create
from recert_client.api.programs import programs_create
from recert_client.models import (
    AwardDraft,
    AwardView,
    LearnerCreate,
    Learner,
    PageAwardView,
    Problem,
    ProgramCreate,
    ProgramView,
    ValidityDraft,
    ValidityDraftUnit,
    VerifyView,
)


def expect(value, kind, what):
    if not isinstance(value, kind):
        sys.exit(f"{what}: expected {kind.__name__}, got {value!r}")
    return value


def main(base, token):
    api = AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)
    public = Client(base_url=base, raise_on_unexpected_status=True)
    tag = uuid.uuid4().hex[:8]

    program = expect(
        programs_create.sync(
            client=api,
            body=ProgramCreate(
                code=f"FORK-{tag}",
                name="Forklift operator",
                validity=ValidityDraft(count=2, unit=ValidityDraftUnit.YEARS),
                grace_days=14,
            ),
            idempotency_key=str(uuid.uuid4()),
        ),
        ProgramView,
        "create the program",
    )
    learner = expect(
        learners_create.sync(
            client=api,
            body=LearnerCreate(username=f"ada-{tag}", legal_name="Ada Lovelace", email=f"ada-{tag}@example.org"),
        ),
        Learner,
        "create the learner",
    )
    award = expect(
        awards_create.sync(
            client=api,
            body=AwardDraft(learner=learner.username, program=program.code),
        ),
        AwardView,
        "award the program",
    )
    status = getattr(award.status, "value", award.status)
    if award.program != program.code or status != "active":
        sys.exit(f"the new award: {award!r}")

    page = expect(
        awards_list.sync(client=api, learner=learner.username),
        PageAwardView,
        "list the learner's awards",
    )
    if [a.id for a in page.items] != [award.id]:
        sys.exit(f"the learner's awards: {page!r}")

    shown = expect(awards_show.sync(award.id, client=api), AwardView, "read the award")
    if shown.expires_on is None or shown.expires_on.year != award.issued_on.year + 2:
        sys.exit(f"a two-year award expires two years on: {shown!r}")

    verified = expect(
        credentials_verify.sync(award.id, client=public),
        VerifyView,
        "verify it without an account",
    )
    if not verified.signature_valid or verified.learner_name != "Ada Lovelace":
        sys.exit(f"the public verification: {verified!r}")

    refused = expect(
        programs_create.sync(
            client=api,
            body=ProgramCreate(
                code=f"FORK-{tag}", name="Again", validity=ValidityDraft(count=1, unit=ValidityDraftUnit.YEARS)
            ),
        ),
        Problem,
        "a program code used twice",
    )
    if refused.status != 409:
        sys.exit(f"a duplicate program code: {refused!r}")
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
