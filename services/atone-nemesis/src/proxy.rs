//! A TCP proxy the nemesis can cut (open connections dropped, new ones closed at once) or
//! stall (connections held open, nothing forwarded), as a network does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Up,
    /// Open connections dropped, new ones closed as soon as they are accepted.
    Cut,
    /// Connections accepted and held, no byte forwarded either way.
    Stall,
}

pub struct Proxy {
    pub port: u16,
    target: Arc<AtomicU16>,
    mode: watch::Sender<Mode>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: u16) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let target = Arc::new(AtomicU16::new(target));
        let (mode, _) = watch::channel(Mode::Up);
        let task = tokio::spawn(accept(listener, target.clone(), mode.clone()));
        Ok(Self {
            port,
            target,
            mode,
            task,
        })
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sends new connections to `port` from now on (a restarted process's new port).
    pub fn retarget(&self, port: u16) {
        self.target.store(port, Ordering::SeqCst);
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, target: Arc<AtomicU16>, mode: watch::Sender<Mode>) {
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            continue;
        };
        if *mode.borrow() == Mode::Cut {
            drop(inbound);
            continue;
        }
        let port = target.load(Ordering::SeqCst);
        let mode = mode.subscribe();
        tokio::spawn(async move {
            let Ok(outbound) = TcpStream::connect(("127.0.0.1", port)).await else {
                return;
            };
            let _ = inbound.set_nodelay(true);
            let _ = outbound.set_nodelay(true);
            let (in_read, in_write) = inbound.into_split();
            let (out_read, out_write) = outbound.into_split();
            // Either direction ending ends the connection.
            tokio::select! {
                () = pump(in_read, out_write, mode.clone()) => {}
                () = pump(out_read, in_write, mode) => {}
            }
        });
    }
}

async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut mode: watch::Receiver<Mode>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let mut cut = mode.clone();
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = cut.wait_for(|m| *m == Mode::Cut) => return,
        };
        match mode.wait_for(|m| *m != Mode::Stall).await {
            Ok(m) if *m == Mode::Up => {}
            _ => return,
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
