//! Work that outlives the request that started it. The domain names such work; the server runs
//! it on its own runtime. Nobody waits for a background task or sees its result, so a task
//! reports what it finds through shared state (a cache entry) or not at all.

use std::future::Future;
use std::pin::Pin;

/// A task handed to [`Background::spawn`].
pub type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Runs tasks on their own.
pub trait Background: Send + Sync {
    /// Starts `task` and returns at once.
    fn spawn(&self, task: Task);
}
