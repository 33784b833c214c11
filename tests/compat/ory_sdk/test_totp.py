"""TOTP second factor through the official Ory Python SDK: the secret the settings flow shows
is fed to an independent TOTP implementation (pyotp), whose codes enrol the app and step an
aal1 session up to aal2."""

import time
import uuid

import ory_kratos_client as ory
import pyotp
import pytest
from ory_kratos_client.exceptions import ForbiddenException

from test_native_password import frontend, login, register

PASSWORD = "correct horse battery staple"


def enrol(api, token):
    flow = api.create_native_settings_flow(x_session_token=token)
    texts = [n.attributes.actual_instance for n in flow.ui.nodes if n.type == "text"]
    secret_node = next(t for t in texts if t.id == "totp_secret_key")
    secret = secret_node.text.context["secret"]
    images = [n.attributes.actual_instance for n in flow.ui.nodes if n.type == "img"]
    assert images[0].id == "totp_qr" and images[0].src.startswith("data:image/png;base64,")
    totp = pyotp.TOTP(secret)
    # A code from the previous step (inside the one-step skew), so the current step stays
    # unused for the login below.
    body = ory.UpdateSettingsFlowBody(
        ory.UpdateSettingsFlowWithTotpMethod(method="totp", totp_code=totp.at(time.time() - 30))
    )
    updated = api.update_settings_flow(flow=flow.id, update_settings_flow_body=body, x_session_token=token)
    assert updated.state == "success"
    return totp


def test_totp_enrolment_and_aal2_login_with_pyotp_codes(clavis):
    api = frontend(clavis)
    email = f"totp-{uuid.uuid4().hex[:8]}@example.org"
    registered = register(api, email, PASSWORD)
    totp = enrol(api, registered.session_token)
    enrolled = api.to_session(x_session_token=registered.session_token)
    assert enrolled.authenticator_assurance_level == ory.AuthenticatorAssuranceLevel.AAL2

    token = login(api, email, PASSWORD).session_token
    with pytest.raises(ForbiddenException) as refused:
        api.to_session(x_session_token=token)
    assert '"session_aal2_required"' in refused.value.body

    flow = api.create_native_login_flow(aal="aal2", x_session_token=token)
    assert flow.requested_aal == ory.AuthenticatorAssuranceLevel.AAL2
    names = [n.attributes.actual_instance.name for n in flow.ui.nodes if n.type == "input"]
    assert "totp_code" in names and "password" not in names
    body = ory.UpdateLoginFlowBody(ory.UpdateLoginFlowWithTotpMethod(method="totp", totp_code=totp.now()))
    result = api.update_login_flow(flow=flow.id, update_login_flow_body=body, x_session_token=token)
    assert result.session.authenticator_assurance_level == ory.AuthenticatorAssuranceLevel.AAL2

    session = api.to_session(x_session_token=token)
    assert session.id == result.session.id
    assert session.authenticator_assurance_level == ory.AuthenticatorAssuranceLevel.AAL2
    assert [(m.method, m.aal) for m in session.authentication_methods] == [
        ("password", ory.AuthenticatorAssuranceLevel.AAL1),
        ("totp", ory.AuthenticatorAssuranceLevel.AAL2),
    ]
