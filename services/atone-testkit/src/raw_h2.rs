//! A bare HTTP/2 client speaking frames over a TCP connection: for what a well-behaved
//! client never does (opening more streams than the server allows, sending headers and then
//! nothing, going silent without closing), to see what the server does about it.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;

pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;

/// RST_STREAM's code for a stream the server would not open.
pub const REFUSED_STREAM: u32 = 0x7;

const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;
const SETTINGS_INITIAL_WINDOW_SIZE: u16 = 0x4;

#[derive(Debug, Clone)]
pub struct Frame {
    pub kind: u8,
    pub flags: u8,
    pub stream_id: u32,
    pub payload: Vec<u8>,
}

impl Frame {
    /// A RST_STREAM's or GOAWAY's error code.
    pub fn error_code(&self) -> Option<u32> {
        let at = match self.kind {
            RST_STREAM => 0,
            GOAWAY => 4,
            _ => return None,
        };
        let bytes = self.payload.get(at..at + 4)?;
        Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    pub fn ends_stream(&self) -> bool {
        self.kind == RST_STREAM
            || (matches!(self.kind, DATA | HEADERS) && self.flags & END_STREAM != 0)
    }
}

pub struct RawH2 {
    socket: TcpStream,
    authority: String,
    /// What the server's SETTINGS said of streams at once.
    pub server_max_concurrent_streams: Option<u32>,
}

impl RawH2 {
    /// Connects to `addr` and exchanges the connection preface and SETTINGS.
    pub async fn connect(addr: std::net::SocketAddr) -> Self {
        let socket = TcpStream::connect(addr).await.expect("connect");
        let mut h2 = Self {
            socket,
            authority: addr.to_string(),
            server_max_concurrent_streams: None,
        };
        h2.socket
            .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .await
            .expect("preface");
        // A large window, so the server's answers never wait on this client.
        let mut settings = Vec::new();
        settings.extend_from_slice(&SETTINGS_INITIAL_WINDOW_SIZE.to_be_bytes());
        settings.extend_from_slice(&(1u32 << 30).to_be_bytes());
        h2.send(SETTINGS, 0, 0, &settings).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let frame = tokio::time::timeout_at(deadline, h2.next_frame())
                .await
                .expect("the server's SETTINGS within 10 s")
                .expect("the server's SETTINGS");
            if frame.kind == SETTINGS && frame.flags & ACK == 0 {
                for entry in frame.payload.chunks_exact(6) {
                    let id = u16::from_be_bytes([entry[0], entry[1]]);
                    let value = u32::from_be_bytes([entry[2], entry[3], entry[4], entry[5]]);
                    if id == SETTINGS_MAX_CONCURRENT_STREAMS {
                        h2.server_max_concurrent_streams = Some(value);
                    }
                }
                h2.send(SETTINGS, ACK, 0, &[]).await;
                return h2;
            }
        }
    }

    pub async fn send(&mut self, kind: u8, flags: u8, stream_id: u32, payload: &[u8]) {
        let len = u32::try_from(payload.len()).expect("frame size");
        let mut frame = Vec::with_capacity(9 + payload.len());
        frame.extend_from_slice(&len.to_be_bytes()[1..]);
        frame.push(kind);
        frame.push(flags);
        frame.extend_from_slice(&stream_id.to_be_bytes());
        frame.extend_from_slice(payload);
        self.socket.write_all(&frame).await.expect("send a frame");
    }

    /// Opens stream `stream_id` (odd, increasing) with a gRPC call to `path`; with `message`,
    /// sends it as the request and ends the stream, else leaves the request unfinished.
    pub async fn open(&mut self, stream_id: u32, path: &str, message: Option<&[u8]>) {
        let grpc = [("content-type", "application/grpc"), ("te", "trailers")];
        self.open_with(stream_id, path, &grpc).await;
        if let Some(message) = message {
            let mut data = vec![0u8];
            data.extend_from_slice(&u32::try_from(message.len()).expect("size").to_be_bytes());
            data.extend_from_slice(message);
            self.send(DATA, END_STREAM, stream_id, &data).await;
        }
    }

    /// Opens stream `stream_id` with a POST to `path` and these headers (`content-type`,
    /// `content-length`, `authorization`…), leaving the request unfinished: a caller that
    /// holds its body.
    pub async fn open_with(&mut self, stream_id: u32, path: &str, headers: &[(&str, &str)]) {
        let mut block = Vec::new();
        for (name, value) in [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", path),
            (":authority", self.authority.as_str()),
        ]
        .into_iter()
        .chain(headers.iter().copied())
        {
            literal(&mut block, name, value);
        }
        self.send(HEADERS, END_HEADERS, stream_id, &block).await;
    }

    /// The next frame from the server; None once it closed the connection.
    pub async fn next_frame(&mut self) -> Option<Frame> {
        let mut head = [0u8; 9];
        self.socket.read_exact(&mut head).await.ok()?;
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let mut payload = vec![0u8; len];
        self.socket.read_exact(&mut payload).await.ok()?;
        let stream_id = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        let frame = Frame {
            kind: head[3],
            flags: head[4],
            stream_id,
            payload,
        };
        if frame.kind == PING && frame.flags & ACK == 0 {
            let payload = frame.payload.clone();
            self.send(PING, ACK, 0, &payload).await;
        }
        Some(frame)
    }

    /// Frames until `until` holds of one (returned) or `timeout` passes (None).
    pub async fn frame_where(
        &mut self,
        timeout: Duration,
        mut until: impl FnMut(&Frame) -> bool,
    ) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.next_frame()).await {
                Ok(Some(frame)) if until(&frame) => return Some(frame),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return None,
            }
        }
    }
}

/// An HPACK "literal header field without indexing, new name" with plain strings.
fn literal(block: &mut Vec<u8>, name: &str, value: &str) {
    block.push(0);
    for s in [name, value] {
        integer(block, s.len());
        block.extend_from_slice(s.as_bytes());
    }
}

/// An HPACK integer with a 7-bit prefix (a string's length, not Huffman-coded).
fn integer(block: &mut Vec<u8>, value: usize) {
    if value < 127 {
        block.push(value as u8);
        return;
    }
    block.push(127);
    let mut rest = value - 127;
    while rest >= 128 {
        block.push((rest % 128 + 128) as u8);
        rest /= 128;
    }
    block.push(rest as u8);
}
