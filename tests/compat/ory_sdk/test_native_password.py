"""Native registration, login, whoami and session listing through the official Ory Python SDK,
using its own request and response models, so every answer must parse as the SDK expects."""

import uuid

import ory_kratos_client as ory
import pytest
from ory_kratos_client.exceptions import BadRequestException, UnauthorizedException


def frontend(clavis):
    return ory.FrontendApi(ory.ApiClient(ory.Configuration(host=clavis["public"])))


def register(api, email, password):
    flow = api.create_native_registration_flow()
    assert isinstance(flow, ory.RegistrationFlow)
    body = ory.UpdateRegistrationFlowBody(
        ory.UpdateRegistrationFlowWithPasswordMethod(
            method="password", password=password, traits={"email": email}
        )
    )
    return api.update_registration_flow(flow=flow.id, update_registration_flow_body=body)


def login(api, identifier, password):
    flow = api.create_native_login_flow()
    assert isinstance(flow, ory.LoginFlow)
    body = ory.UpdateLoginFlowBody(
        ory.UpdateLoginFlowWithPasswordMethod(method="password", identifier=identifier, password=password)
    )
    return api.update_login_flow(flow=flow.id, update_login_flow_body=body)


def test_native_registration_returns_identity_session_and_token(clavis):
    api = frontend(clavis)
    email = f"sdk-{uuid.uuid4().hex[:8]}@example.org"
    result = register(api, email, "correct horse battery staple")
    assert isinstance(result, ory.SuccessfulNativeRegistration)
    assert result.identity.traits["email"] == email
    assert result.session_token.startswith("clv_st_")
    session = api.to_session(x_session_token=result.session_token)
    assert isinstance(session, ory.Session)
    assert session.identity.id == result.identity.id
    assert session.authenticator_assurance_level == ory.AuthenticatorAssuranceLevel.AAL1


def test_native_login_flow_shape_and_success(clavis):
    api = frontend(clavis)
    email = f"sdk-{uuid.uuid4().hex[:8]}@example.org"
    register(api, email, "correct horse battery staple")
    flow = api.create_native_login_flow()
    names = [node.attributes.actual_instance.name for node in flow.ui.nodes]
    assert names == ["identifier", "password", "method"]
    result = login(api, email, "correct horse battery staple")
    assert isinstance(result, ory.SuccessfulNativeLogin)
    assert result.session.authentication_methods[0].method == "password"
    again = api.to_session(x_session_token=result.session_token)
    assert again.id == result.session.id


def test_native_login_wrong_password_is_a_400_flow_with_4000006(clavis):
    api = frontend(clavis)
    email = f"sdk-{uuid.uuid4().hex[:8]}@example.org"
    register(api, email, "correct horse battery staple")
    with pytest.raises(BadRequestException) as raised:
        login(api, email, "wrong password entirely")
    flow = ory.LoginFlow.from_json(raised.value.body)
    assert [m.id for m in flow.ui.messages] == [4000006]


def test_native_registration_short_password_is_a_400_flow_with_4000032(clavis):
    api = frontend(clavis)
    with pytest.raises(BadRequestException) as raised:
        register(api, f"sdk-{uuid.uuid4().hex[:8]}@example.org", "short")
    flow = ory.RegistrationFlow.from_json(raised.value.body)
    password = next(n for n in flow.ui.nodes if n.attributes.actual_instance.name == "password")
    assert [m.id for m in password.messages] == [4000032]


def test_my_sessions_list_and_revoke_others(clavis):
    api = frontend(clavis)
    email = f"sdk-{uuid.uuid4().hex[:8]}@example.org"
    first = register(api, email, "correct horse battery staple").session_token
    second = login(api, email, "correct horse battery staple").session_token
    others = api.list_my_sessions(x_session_token=second)
    assert len(others) == 1
    revoked = api.disable_my_other_sessions(x_session_token=second)
    assert revoked.count == 1
    with pytest.raises(UnauthorizedException):
        api.to_session(x_session_token=first)
    assert api.to_session(x_session_token=second).active is True


def test_native_logout_ends_the_session(clavis):
    api = frontend(clavis)
    email = f"sdk-{uuid.uuid4().hex[:8]}@example.org"
    token = register(api, email, "correct horse battery staple").session_token
    api.perform_native_logout(ory.PerformNativeLogoutBody(session_token=token))
    with pytest.raises(UnauthorizedException):
        api.to_session(x_session_token=token)


def test_refresh_login_reauthenticates_the_same_identity(clavis):
    api = frontend(clavis)
    email = f"sdk-{uuid.uuid4().hex[:8]}@example.org"
    token = register(api, email, "correct horse battery staple").session_token
    flow = api.create_native_login_flow(refresh=True, x_session_token=token)
    assert flow.refresh is True
    body = ory.UpdateLoginFlowBody(
        ory.UpdateLoginFlowWithPasswordMethod(method="password", identifier=email, password="correct horse battery staple")
    )
    result = api.update_login_flow(flow=flow.id, update_login_flow_body=body, x_session_token=token)
    assert result.session.identity.traits["email"] == email
    assert result.session_token == token, "a refresh keeps the session and its token"
    assert api.to_session(x_session_token=token).id == result.session.id


def test_settings_password_change_and_profile_update(clavis):
    api = frontend(clavis)
    email = f"sdk-{uuid.uuid4().hex[:8]}@example.org"
    token = register(api, email, "correct horse battery staple").session_token
    flow = api.create_native_settings_flow(x_session_token=token)
    assert isinstance(flow, ory.SettingsFlow)
    assert flow.state == "show_form"
    assert flow.identity.traits["email"] == email
    names = [node.attributes.actual_instance.name for node in flow.ui.nodes if node.type == "input"]
    assert "traits.email" in names and "password" in names and "totp_code" in names

    body = ory.UpdateSettingsFlowBody(
        ory.UpdateSettingsFlowWithPasswordMethod(method="password", password="a fresh sdk passphrase")
    )
    done = api.update_settings_flow(flow=flow.id, update_settings_flow_body=body, x_session_token=token)
    assert isinstance(done, ory.SettingsFlow)
    assert done.state == "success"
    assert [m.id for m in done.ui.messages] == [1050001]
    assert login(api, email, "a fresh sdk passphrase").session.identity.traits["email"] == email

    body = ory.UpdateSettingsFlowBody(
        ory.UpdateSettingsFlowWithProfileMethod(
            method="profile", traits={"email": email, "name": {"first": "Sdk"}}
        )
    )
    again = api.get_settings_flow(id=flow.id, x_session_token=token)
    done = api.update_settings_flow(flow=again.id, update_settings_flow_body=body, x_session_token=token)
    assert done.identity.traits["name"]["first"] == "Sdk"


def test_settings_refused_password_answers_the_flow_with_message_ids(clavis):
    api = frontend(clavis)
    email = f"sdk-{uuid.uuid4().hex[:8]}@example.org"
    token = register(api, email, "correct horse battery staple").session_token
    flow = api.create_native_settings_flow(x_session_token=token)
    body = ory.UpdateSettingsFlowBody(
        ory.UpdateSettingsFlowWithPasswordMethod(method="password", password="iloveyou")
    )
    with pytest.raises(BadRequestException) as refused:
        api.update_settings_flow(flow=flow.id, update_settings_flow_body=body, x_session_token=token)
    answer = ory.SettingsFlow.from_json(refused.value.body)
    ids = [m.id for n in answer.ui.nodes for m in n.messages]
    assert ids == [4000034]

