"""Account search (simulated and live accounts), contract search and lookup, request validation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.fakes.projectx import AccountSetup, ErrorCode, FakeProjectX
from tests.unit.fakes.projectx.conftest import LIVE, Gateway, logged_in


async def test_account_search_lists_simulated_and_live_accounts(fake: FakeProjectX, gateway: Gateway) -> None:
    accounts = (await gateway.ok("/api/Account/search", {"onlyActiveAccounts": True}))["accounts"]

    assert [(a["name"], a["simulated"], a["canTrade"], a["isVisible"]) for a in accounts] == [
        ("50KTC-V2-FAKE-EVAL", True, True, True),
        (LIVE, False, True, True),
    ]
    assert accounts[1]["id"] == fake.account_id(LIVE) and accounts[0]["balance"] == 50000


async def test_account_search_only_active_leaves_inactive_accounts_out() -> None:
    setups = (AccountSetup("OPEN"), AccountSetup("BLOWN", Decimal(0), active=False))
    with FakeProjectX(accounts=setups) as fake:
        async with logged_in(fake) as rest:
            active = (await rest.ok("/api/Account/search", {"onlyActiveAccounts": True}))["accounts"]
            every = (await rest.ok("/api/Account/search", {"onlyActiveAccounts": False}))["accounts"]

    assert [a["name"] for a in active] == ["OPEN"]
    assert [a["name"] for a in every] == ["OPEN", "BLOWN"]


@pytest.mark.parametrize(
    ("text", "front"),
    [
        ("ES", "CON.F.US.EP.Z25"),
        ("MES", "CON.F.US.MES.Z25"),
        ("NQ", "CON.F.US.ENQ.Z25"),
        ("MNQ", "CON.F.US.MNQ.Z25"),
    ],
)
async def test_contract_search_lists_the_front_month_first_and_active(
    gateway: Gateway, text: str, front: str
) -> None:
    contracts = (await gateway.ok("/api/Contract/search", {"searchText": text, "live": False}))["contracts"]

    first = contracts[0]
    assert (first["id"], first["activeContract"]) == (front, True)
    assert set(first) == {"id", "name", "description", "tickSize", "tickValue", "activeContract", "symbolId"}
    assert all(not c["activeContract"] for c in contracts if c["id"].endswith(".H26"))


async def test_contract_search_es_answers_the_platform_names(gateway: Gateway) -> None:
    contracts = (await gateway.ok("/api/Contract/search", {"searchText": "E-Mini S&P", "live": False}))[
        "contracts"
    ]

    es = next(c for c in contracts if c["id"] == "CON.F.US.EP.Z25")
    assert es == {
        "id": "CON.F.US.EP.Z25",
        "name": "EPZ25",
        "description": "E-Mini S&P 500: December 2025",
        "tickSize": 0.25,
        "tickValue": 12.5,
        "activeContract": True,
        "symbolId": "F.US.EP",
    }


async def test_contract_search_by_id_answers_the_contract(gateway: Gateway) -> None:
    answer = await gateway.ok("/api/Contract/searchById", {"contractId": "CON.F.US.MNQ.H26"})

    assert (answer["contract"]["name"], answer["contract"]["activeContract"]) == ("MNQH26", False)


async def test_contract_search_by_id_unknown_answers_code_1(gateway: Gateway) -> None:
    answer = await gateway.refused("/api/Contract/searchById", {"contractId": "CON.F.US.XX.Z25"})

    assert (answer["errorCode"], answer["contract"]) == (ErrorCode.CONTRACT_NOT_FOUND_BY_ID, None)


async def test_fake_contract_months_are_configurable() -> None:
    with FakeProjectX(months=("H26", "M26")) as fake:
        assert fake.contract("ES").id == "CON.F.US.EP.H26"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "onlyActiveAccounts"),
        ({"onlyActiveAccounts": "yes"}, "onlyActiveAccounts"),
    ],
)
async def test_missing_or_mistyped_field_answers_400_problem(
    gateway: Gateway, body: dict[str, object], field: str
) -> None:
    status, answer = await gateway.call("/api/Account/search", body)

    assert status == 400
    assert answer["title"] == "One or more validation errors occurred." and field in answer["errors"]


async def test_body_that_is_not_json_answers_400(gateway: Gateway) -> None:
    async with gateway.session.post(
        "/api/Account/search", data=b"{not json", headers={"Authorization": f"Bearer {gateway.token}"}
    ) as response:
        assert response.status == 400
        assert response.headers["Content-Type"].startswith("application/problem+json")
