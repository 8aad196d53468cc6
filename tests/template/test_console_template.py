"""The console (issue 16) in template.yaml: every console route needs a token of the console
user pool (JWT authorizer: issuer and audience of that pool and its browser client) and goes to
the console function, whose role only reads the app table; the pool admits only users an admin
creates; the browser client keeps no secret; CORS names the console's origin only."""

from __future__ import annotations

from typing import Any

import pytest

from sms_automation.console.http import ROUTES
from tests.template import checks

pytestmark = pytest.mark.template

Template = dict[str, Any]


def test_every_console_route_is_the_pools_jwt_and_goes_to_the_console_function(
    raw_template: Template,
) -> None:
    resources = raw_template["Resources"]
    routes = {
        route["Properties"]["RouteKey"]: route["Properties"]
        for _, route in checks.resources(raw_template, checks.HTTP_API_ROUTE)
        if route["Properties"]["ApiId"] == {"Ref": "ConsoleApi"}
    }
    assert sorted(routes) == sorted(ROUTES), "the template's routes are the code's, no $default"
    for key, route in routes.items():
        assert route["AuthorizationType"] == "JWT", key
        assert route["AuthorizerId"] == {"Ref": "ConsoleApiAuthorizer"}, key
        assert route["Target"] == {"Fn::Sub": "integrations/${ConsoleApiIntegration}"}, key
    authorizer = resources["ConsoleApiAuthorizer"]["Properties"]
    assert authorizer["AuthorizerType"] == "JWT"
    jwt = authorizer["JwtConfiguration"]
    assert jwt["Audience"] == [{"Ref": "ConsoleUserPoolClient"}]
    assert jwt["Issuer"] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${ConsoleUserPool}"
    }
    integration = resources["ConsoleApiIntegration"]["Properties"]
    assert integration["IntegrationUri"] == {"Fn::GetAtt": ["ConsoleApiFunction", "Arn"]}
    cors = resources["ConsoleApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == [
        {"Fn::Sub": "https://${ConsoleDistribution.DomainName}"},  # the hosted console
        {"Ref": "ConsoleAllowedOrigin"},
    ]
    assert cors["AllowCredentials"] is False  # bearer tokens, no cookies


def test_the_pool_admits_only_invited_users_and_the_client_keeps_no_secret(
    raw_template: Template,
) -> None:
    resources = raw_template["Resources"]
    pool = resources["ConsoleUserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    client = resources["ConsoleUserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert "ALLOW_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    assert "ALLOW_USER_SRP_AUTH" in client["ExplicitAuthFlows"]
    groups = {
        r["Properties"]["GroupName"]
        for _, r in checks.resources(raw_template, "AWS::Cognito::UserPoolGroup")
    }
    assert groups == {"viewer", "operator", "admin"}


def test_the_console_function_reads_and_changes_only_what_its_pages_need(
    raw_template: Template,
) -> None:
    """Reads of the app table and its indexes; a run's origin (PutItem) and an account's
    settings (UpdateItem), never a scan; this stack's account secrets read and
    replaced, never created or deleted; the audit record appended and read."""
    function = raw_template["Resources"]["ConsoleApiFunction"]["Properties"]
    statements = {
        statement["Sid"]: statement
        for policy in function["Policies"]
        for statement in policy["Statement"]
    }
    read = statements["ReadAppTable"]
    assert sorted(read["Action"]) == ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"]
    assert read["Resource"] == [
        {"Fn::GetAtt": ["AppTable", "Arn"]},
        {"Fn::Sub": "${AppTable.Arn}/index/gsi1"},
        {"Fn::Sub": "${AppTable.Arn}/index/gsi2"},
    ]
    # A run's origin, an account's settings, a thread's writes, a cancel, a push's transaction
    # of two puts: one statement, the app table's items only.
    change = statements["WriteAppTable"]
    assert sorted(change["Action"]) == [
        "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
    ]  # fmt: skip
    assert change["Resource"] == {"Fn::GetAtt": ["AppTable", "Arn"]}
    app_table_writes = [
        statement["Sid"]
        for statement in statements.values()
        if statement["Resource"] == {"Fn::GetAtt": ["AppTable", "Arn"]}
        and set(statement["Action"]) & {"dynamodb:PutItem", "dynamodb:UpdateItem"}
    ]
    assert app_table_writes == ["WriteAppTable"]  # no second statement granting the same
    # ... and only on the items the console writes, by partition key (docs/console.md).
    assert change["Condition"] == {
        "ForAllValues:StringLike": {
            "dynamodb:LeadingKeys": [
                "MSG#*", "ACCOUNT#*", "OUT#*", "PACE#*", "CONTACT#*", "FIGURES#*", "TAKEOVER#*",
                "WAIT#*",
            ]
        }
    }  # fmt: skip
    tokens = statements["AccountAuthTokens"]
    assert sorted(tokens["Action"]) == [
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
    ]
    assert tokens["Resource"]["Fn::Sub"].endswith(
        ":secret:sms-automation/${AWS::StackName}/accounts/*"
    )
    actions = {a for s in statements.values() for a in s["Action"]}
    assert not actions & {"dynamodb:Scan", "secretsmanager:DeleteSecret",
                          "secretsmanager:CreateSecret"}  # fmt: skip
