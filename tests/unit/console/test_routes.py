"""The console API's route table (``console.http.ROUTES``) and template.yaml agree: every route
the code answers has its ``AWS::ApiGatewayV2::Route`` behind the JWT authorizer, and no route of
the API reaches the function without a row in the table (which names its least role); CORS
allows every method the table uses; cancel and redrive need an operator."""

from __future__ import annotations

from sms_automation.console.access import Role
from sms_automation.console.http import ROUTES
from tests.support.template import load_template


def _api_routes() -> dict[str, dict[str, object]]:
    resources = load_template()["Resources"]
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in resources.values()
        if r.get("Type") == "AWS::ApiGatewayV2::Route"
        and r["Properties"]["ApiId"] == {"Ref": "ConsoleApi"}
    }


def test_every_route_of_the_table_is_deployed_behind_the_jwt_authorizer() -> None:
    deployed = _api_routes()
    assert set(deployed) == set(ROUTES)
    for properties in deployed.values():
        assert properties["AuthorizationType"] == "JWT"
        assert properties["AuthorizerId"] == {"Ref": "ConsoleApiAuthorizer"}


def test_cors_allows_every_method_of_the_table() -> None:
    cors = load_template()["Resources"]["ConsoleApi"]["Properties"]["CorsConfiguration"]
    assert {key.split(" ", 1)[0] for key in ROUTES} <= set(cors["AllowMethods"])


def test_this_pages_writes_need_an_operator() -> None:
    for key in (
        "POST /console/api/accounts/{account}/conversations/cancel",
        "POST /console/api/dead-letters/redrive",
    ):
        assert ROUTES[key].role is Role.OPERATOR, key
