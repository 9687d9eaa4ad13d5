//! ActionCable through the proxy: the upstream socket is opened first (so a down upstream is
//! a 502 the app can read, not an accepted socket that dies), with the browser's offered
//! subprotocols; the browser then gets the subprotocol the upstream chose, and frames flow
//! both ways as they come, close codes included.

use std::time::Duration;

use axum::extract::ws::{
    rejection::WebSocketUpgradeRejection, CloseFrame, Message, Utf8Bytes, WebSocket,
    WebSocketUpgrade,
};
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame as TCloseFrame;
use tokio_tungstenite::tungstenite::{self, Message as TMessage};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::forward::Failure;
use super::rewrite::{self, FileUrls};
use super::ProxyState;

type Upstream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// RFC 6455's registry: "the server was acting as a gateway and received an invalid
/// response from the upstream" — sent when the upstream socket dies without a close frame.
const BAD_GATEWAY: u16 = 1014;
/// Going away: the browser left, so the upstream socket is closed on its behalf.
const GOING_AWAY: u16 = 1001;
/// How long a close handshake may take before the sockets are simply dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

pub async fn bridge(
    State(state): State<ProxyState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let s = &state.0;
    let path = uri.path_and_query().map_or("/cable", |pq| pq.as_str());
    let (upstream, protocol) = match connect(&state, path, &headers).await {
        Ok(pair) => pair,
        Err(failure) => return failure.response(&s.target.host, true),
    };
    let files = FileUrls::new(&s.target, &rewrite::proxy_origin(&headers));
    let mut ws = ws;
    if let Some(p) = protocol {
        // The upstream chose from the list the browser offered, so the browser accepts it.
        ws.set_selected_protocol(p);
    }
    ws.on_upgrade(move |client| pump(client, upstream, files))
}

async fn connect(
    state: &ProxyState,
    path: &str,
    headers: &HeaderMap,
) -> Result<(Upstream, Option<HeaderValue>), Failure> {
    let s = &state.0;
    let mut request = s
        .target
        .ws_url(path)
        .into_client_request()
        .map_err(|_| Failure::Unreachable)?;
    let h = request.headers_mut();
    if let Some(p) = headers.get(header::SEC_WEBSOCKET_PROTOCOL) {
        h.insert(header::SEC_WEBSOCKET_PROTOCOL, p.clone());
    }
    // Chatwoot turns ActionCable's origin check off, but a Rails app that keeps it accepts
    // its own origin; the browser's origin (this proxy's) would mean nothing there.
    if let Ok(origin) = HeaderValue::from_str(&s.target.origin) {
        h.insert(header::ORIGIN, origin);
    }
    h.insert(
        header::USER_AGENT,
        HeaderValue::from_static(concat!(
            "parley-server/",
            env!("CARGO_PKG_VERSION"),
            " (proxy)"
        )),
    );

    let tcp = match tokio::time::timeout(
        s.connect_timeout,
        TcpStream::connect(s.target.authority.as_str()),
    )
    .await
    {
        Err(_) => return Err(Failure::ConnectTimeout(s.connect_timeout)),
        Ok(Err(_)) => return Err(Failure::Unreachable),
        Ok(Ok(tcp)) => tcp,
    };
    let _ = tcp.set_nodelay(true);
    let connector = if s.target.tls {
        Connector::Rustls(s.tls.clone())
    } else {
        Connector::Plain
    };
    let handshake =
        tokio_tungstenite::client_async_tls_with_config(request, tcp, None, Some(connector));
    match tokio::time::timeout(s.timeout, handshake).await {
        Err(_) => Err(Failure::Silent(s.timeout)),
        Ok(Err(tungstenite::Error::Http(response))) => {
            tracing::warn!(
                "proxy: the upstream refused the cable upgrade with {}",
                response.status()
            );
            Err(Failure::Broken)
        }
        Ok(Err(e)) => {
            tracing::debug!("proxy: cable handshake failed: {e}");
            Err(Failure::Broken)
        }
        Ok(Ok((socket, response))) => {
            let protocol = response
                .headers()
                .get(header::SEC_WEBSOCKET_PROTOCOL)
                .cloned();
            Ok((socket, protocol))
        }
    }
}

fn to_upstream(m: Message) -> Option<TMessage> {
    Some(match m {
        Message::Text(t) => TMessage::Text(t.as_str().into()),
        Message::Binary(b) => TMessage::Binary(b),
        Message::Close(frame) => TMessage::Close(frame.map(|f| TCloseFrame {
            code: CloseCode::from(f.code),
            reason: f.reason.as_str().into(),
        })),
        // Each side answers its own pings.
        Message::Ping(_) | Message::Pong(_) => return None,
    })
}

fn to_client(m: TMessage, files: &FileUrls) -> Option<Message> {
    Some(match m {
        TMessage::Text(t) => Message::Text(Utf8Bytes::from(files.apply(t.as_str()).as_ref())),
        TMessage::Binary(b) => Message::Binary(b),
        TMessage::Close(frame) => Message::Close(frame.and_then(|f| {
            // 1005/1006/1015 describe a close, they may not be sent in one.
            f.code.is_allowed().then(|| CloseFrame {
                code: u16::from(f.code),
                reason: Utf8Bytes::from(f.reason.as_str()),
            })
        })),
        TMessage::Ping(_) | TMessage::Pong(_) | TMessage::Frame(_) => return None,
    })
}

async fn pump(client: WebSocket, upstream: Upstream, files: FileUrls) {
    let (mut c_tx, mut c_rx) = client.split();
    let (mut u_tx, mut u_rx) = upstream.split();
    loop {
        tokio::select! {
            from_client = c_rx.next() => match from_client {
                Some(Ok(m)) => {
                    let closing = matches!(m, Message::Close(_));
                    if let Some(m) = to_upstream(m) {
                        if u_tx.send(m).await.is_err() {
                            let _ = c_tx.send(close(BAD_GATEWAY, "upstream closed")).await;
                            break;
                        }
                    }
                    if closing {
                        // Let the upstream answer the close, then stop.
                        let _ = tokio::time::timeout(CLOSE_GRACE, async {
                            while let Some(Ok(m)) = u_rx.next().await {
                                if matches!(m, TMessage::Close(_)) {
                                    break;
                                }
                            }
                        })
                        .await;
                        break;
                    }
                }
                // The browser vanished without a close frame.
                Some(Err(_)) | None => {
                    let _ = u_tx
                        .send(TMessage::Close(Some(TCloseFrame {
                            code: CloseCode::from(GOING_AWAY),
                            reason: "client left".into(),
                        })))
                        .await;
                    break;
                }
            },
            from_upstream = u_rx.next() => match from_upstream {
                Some(Ok(m)) => {
                    let closing = matches!(m, TMessage::Close(_));
                    if let Some(m) = to_client(m, &files) {
                        if c_tx.send(m).await.is_err() {
                            break;
                        }
                    }
                    if closing {
                        // Our reply to the upstream's close goes out on the next flush.
                        let _ = tokio::time::timeout(CLOSE_GRACE, u_tx.flush()).await;
                        let _ = tokio::time::timeout(CLOSE_GRACE, async {
                            while let Some(Ok(m)) = c_rx.next().await {
                                if matches!(m, Message::Close(_)) {
                                    break;
                                }
                            }
                        })
                        .await;
                        break;
                    }
                }
                Some(Err(_)) | None => {
                    let _ = c_tx.send(close(BAD_GATEWAY, "upstream closed")).await;
                    break;
                }
            },
        }
    }
    let _ = tokio::time::timeout(CLOSE_GRACE, c_tx.close()).await;
    let _ = tokio::time::timeout(CLOSE_GRACE, u_tx.close()).await;
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from(reason),
    }))
}
