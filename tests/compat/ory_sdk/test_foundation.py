"""The official Ory Python SDK (`ory-kratos-client`) against Clavis' metadata, schema and
session endpoints, using the SDK's own methods and models."""

import json

import ory_kratos_client as ory
import pytest
from ory_kratos_client.exceptions import UnauthorizedException, NotFoundException


def client(url):
    return ory.ApiClient(ory.Configuration(host=url))


def test_metadata_alive_ready_version_on_both_ports(clavis):
    for url in (clavis["public"], clavis["admin"]):
        metadata = ory.MetadataApi(client(url))
        assert metadata.is_alive().status == "ok"
        assert metadata.is_ready().status == "ok"
        assert metadata.get_version().version


def test_identity_schemas_list_and_get(clavis):
    api = ory.IdentityApi(client(clavis["public"]))
    schemas = api.list_identity_schemas()
    assert [s.id for s in schemas] == ["default"]
    assert isinstance(schemas[0], ory.IdentitySchemaContainer)
    schema = api.get_identity_schema("default")
    traits = schema["properties"]["traits"]["properties"]
    assert traits["email"]["ory.sh/kratos"]["credentials"]["password"]["identifier"] is True


def test_identity_schema_unknown_raises_not_found(clavis):
    api = ory.IdentityApi(client(clavis["public"]))
    with pytest.raises(NotFoundException) as raised:
        api.get_identity_schema("missing")
    body = json.loads(raised.value.body)
    assert body["error"]["code"] == 404


def test_to_session_without_credentials_raises_unauthorized(clavis):
    frontend = ory.FrontendApi(client(clavis["public"]))
    with pytest.raises(UnauthorizedException) as raised:
        frontend.to_session()
    envelope = ory.ErrorGeneric.from_json(raised.value.body)
    assert envelope.error.code == 401
    assert envelope.error.id == "session_inactive"


def test_to_session_with_unknown_token_raises_unauthorized(clavis):
    frontend = ory.FrontendApi(client(clavis["public"]))
    with pytest.raises(UnauthorizedException):
        frontend.to_session(x_session_token="clv_st_" + "x" * 32)
    with pytest.raises(UnauthorizedException):
        frontend.list_my_sessions(x_session_token="clv_st_" + "x" * 32)
