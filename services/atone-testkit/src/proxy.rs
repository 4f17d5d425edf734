//! A TCP proxy, to take a server out of reach and bring it back as a network outage does.

use std::sync::Arc;
use std::sync::Mutex;

/// A TCP proxy in front of a port, to take a server out of reach (connections refused,
/// open ones dropped) and bring it back, as a network outage does.
pub struct TcpProxy {
    pub port: u16,
    /// Where new connections go.
    target: Arc<std::sync::atomic::AtomicU16>,
    running: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl TcpProxy {
    pub async fn start(target: u16) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let proxy = Self {
            port,
            target: Arc::new(target.into()),
            running: Mutex::new(None),
        };
        proxy.serve(listener);
        proxy
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sends new connections to `port` from now on.
    pub fn retarget(&self, port: u16) {
        self.target.store(port, std::sync::atomic::Ordering::SeqCst);
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let target = self.target.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.load(std::sync::atomic::Ordering::SeqCst);
                connections.spawn(async move {
                    if let Ok(mut outbound) =
                        tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
            // Dropping the set aborts every open connection.
        });
        *self.running.lock().expect("proxy") = Some(task);
    }

    /// Refuses new connections and drops the open ones.
    pub async fn down(&self) {
        let task = self.running.lock().expect("proxy").take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }

    /// Accepts connections on the same port again.
    pub async fn up(&self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind the proxy again");
        self.serve(listener);
    }
}
