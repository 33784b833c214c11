"""The admin API through the official Ory Python SDK's `IdentityApi`, authenticated with the
admin API key `serve --dev` generated: identities (create with an imported password, get,
list page by page, JSON Patch, batch create, update, delete) and sessions (list an identity's,
get, extend, disable, delete all)."""

import uuid

import ory_kratos_client as ory
import pytest
from ory_kratos_client.exceptions import (
    ApiException,
    BadRequestException,
    ConflictException,
    NotFoundException,
    UnauthorizedException,
)

from test_native_password import frontend, login


def identity_api(clavis, key=None):
    # The SDK sends `oryAccessToken` as `Authorization: <prefix> <key>`.
    configuration = ory.Configuration(
        host=clavis["admin"],
        api_key={"oryAccessToken": key or clavis["admin_key"]},
        api_key_prefix={"oryAccessToken": "Bearer"},
    )
    return ory.IdentityApi(ory.ApiClient(configuration))


def unique_email(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.org"


def create(api, email, password=None):
    credentials = None
    if password:
        credentials = ory.IdentityWithCredentials(
            password=ory.IdentityWithCredentialsPassword(
                config=ory.IdentityWithCredentialsPasswordConfig(password=password)
            )
        )
    body = ory.CreateIdentityBody(
        schema_id="default",
        traits={"email": email},
        metadata_public={"plan": "free"},
        metadata_admin={"crm": 7},
        credentials=credentials,
    )
    return api.create_identity(create_identity_body=body)


def test_the_admin_api_refuses_a_wrong_key(clavis):
    with pytest.raises(UnauthorizedException):
        identity_api(clavis, key="not-the-admin-key-at-all").list_identities()


def test_create_get_and_log_in_with_an_imported_password(clavis):
    api = identity_api(clavis)
    email = unique_email("sdk-create")
    created = create(api, email, password="imported through the sdk")
    assert isinstance(created, ory.Identity)
    assert created.state == "active"
    assert created.metadata_admin == {"crm": 7}
    fetched = api.get_identity(id=created.id, include_credential=["password"])
    assert fetched.traits["email"] == email
    password = fetched.credentials["password"]
    assert password.type == "password"
    assert password.identifiers == [email]
    assert password.config == {}
    session = login(frontend(clavis), email, "imported through the sdk")
    assert session.session.identity.id == created.id
    with pytest.raises(ConflictException):
        create(api, email)
    with pytest.raises(BadRequestException):
        api.create_identity(
            create_identity_body=ory.CreateIdentityBody(schema_id="default", traits={"email": "nope"})
        )
    with pytest.raises(NotFoundException):
        api.get_identity(id=str(uuid.uuid4()))


def test_list_identities_page_by_page_with_link_headers(clavis):
    api = identity_api(clavis)
    mine = {create(api, unique_email("sdk-page")).id for _ in range(5)}
    seen = []
    token = None
    while True:
        response = api.list_identities_with_http_info(page_size=2, page_token=token)
        assert response.status_code == 200
        assert len(response.data) <= 2
        seen.extend(identity.id for identity in response.data)
        link = {k.lower(): v for k, v in response.headers.items()}.get("link", "")
        nexts = [part for part in link.split(",") if 'rel="next"' in part]
        if not nexts:
            break
        token = nexts[0].split("page_token=")[1].split(">")[0].split("&")[0]
    assert len(seen) == len(set(seen)), "no identity twice"
    assert mine <= set(seen)
    filtered = api.list_identities(ids=sorted(mine)[:2])
    assert {identity.id for identity in filtered} == set(sorted(mine)[:2])


def test_patch_update_batch_and_delete(clavis):
    api = identity_api(clavis)
    created = create(api, unique_email("sdk-patch"))
    new_email = unique_email("sdk-patched")
    patched = api.patch_identity(
        id=created.id,
        json_patch=[
            ory.JsonPatch(op="replace", path="/traits/email", value=new_email),
            ory.JsonPatch(op="replace", path="/metadata_public", value={"plan": "pro"}),
        ],
    )
    assert patched.traits["email"] == new_email
    assert patched.metadata_public == {"plan": "pro"}
    with pytest.raises(BadRequestException):
        api.patch_identity(id=created.id, json_patch=[ory.JsonPatch(op="remove", path="/id")])

    updated = api.update_identity(
        id=created.id,
        update_identity_body=ory.UpdateIdentityBody(
            schema_id="default", state="inactive", traits={"email": new_email}
        ),
    )
    assert updated.state == "inactive"
    assert updated.metadata_public is None

    first, taken = unique_email("sdk-batch"), new_email
    result = api.batch_patch_identities(
        patch_identities_body=ory.PatchIdentitiesBody(
            identities=[
                ory.IdentityPatch(
                    patch_id=str(uuid.uuid4()),
                    create=ory.CreateIdentityBody(schema_id="default", traits={"email": first}),
                ),
                ory.IdentityPatch(create=ory.CreateIdentityBody(schema_id="default", traits={"email": taken})),
            ]
        )
    )
    assert isinstance(result, ory.BatchPatchIdentitiesResponse)
    assert [entry.action for entry in result.identities] == ["create", "error"]
    assert api.get_identity(id=result.identities[0].identity).traits["email"] == first

    api.delete_identity(id=created.id)
    with pytest.raises(NotFoundException):
        api.get_identity(id=created.id)


def test_identity_sessions_list_extend_disable_and_delete(clavis):
    api = identity_api(clavis)
    email = unique_email("sdk-sessions")
    created = create(api, email, password="sessions through the sdk")
    public = frontend(clavis)
    tokens = [login(public, email, "sessions through the sdk").session_token for _ in range(2)]
    sessions = api.list_identity_sessions(id=created.id)
    assert len(sessions) == 2
    assert all(isinstance(session, ory.Session) for session in sessions)
    one = sessions[0]
    extended = api.extend_session(id=one.id)
    assert extended.id == one.id
    assert extended.expires_at >= one.expires_at
    fetched = api.get_session(id=one.id, expand=["identity"])
    assert fetched.identity.id == created.id
    api.disable_session(id=one.id)
    assert [s.id for s in api.list_identity_sessions(id=created.id, active=True)] == [
        s.id for s in sessions if s.id != one.id
    ]
    api.delete_identity_sessions(id=created.id)
    assert api.list_identity_sessions(id=created.id) == []
    for token in tokens:
        with pytest.raises(ApiException) as refused:
            public.to_session(x_session_token=token)
        assert refused.value.status == 401
