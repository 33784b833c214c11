//! The engine without HTTP: starting a login flow on a real SQLite store (nodes from every
//! method, one insert), and rendering that flow's page from its nodes.

use clavis_core::flow::login::NewLogin;
use clavis_render::{Common, FlowPage, Links, PageKind, Renderer};
use clavis_testkit::{Engine, TestServer};
use clavis_types::flow::FlowType;
use clavis_types::session::Aal;
use criterion::{Criterion, criterion_group, criterion_main};

fn new_login() -> NewLogin {
    NewLogin {
        flow_type: FlowType::Api,
        refresh: false,
        requested_aal: Aal::Aal1,
        return_to: None,
        request_url: "http://127.0.0.1/self-service/login/api".to_owned(),
        session: None,
        csrf_token: None,
    }
}

fn engine(c: &mut Criterion) {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return eprintln!("no runtime: {error}"),
    };
    let Some(server) = runtime.block_on(TestServer::start(Engine::Sqlite)) else {
        return;
    };
    let login = server.services().login.clone();
    c.bench_function("login flow creation (SQLite)", |b| {
        b.to_async(&runtime).iter(|| login.create(new_login()))
    });
    let flow = match runtime.block_on(login.create(new_login())) {
        Ok(flow) => flow,
        Err(error) => return eprintln!("no flow to render: {error}"),
    };
    let renderer = match Renderer::new(None) {
        Ok(renderer) => renderer,
        Err(error) => return eprintln!("no renderer: {error}"),
    };
    let links = Links {
        login: "/ui/login".to_owned(),
        registration: "/ui/registration".to_owned(),
        settings: "/ui/settings".to_owned(),
        welcome: "/ui/welcome".to_owned(),
        logout: "/ui/logout".to_owned(),
        revoke: "/ui/welcome/revoke".to_owned(),
        apps: "/ui/welcome/apps".to_owned(),
        recovery: Some("/self-service/recovery/browser".to_owned()),
        verification: None,
    };
    let common = Common {
        lang: "en".to_owned(),
        nonce: "bench".to_owned(),
    };
    c.bench_function("login page rendering", |b| {
        b.iter(|| {
            let page = FlowPage {
                kind: PageKind::Login,
                ui: &flow.ui,
                refresh: false,
                second_factor: false,
                links: links.clone(),
            };
            renderer.flow_page(&page, &common)
        })
    });
    runtime.block_on(server.stop());
}

criterion_group!(benches, engine);
criterion_main!(benches);
