//! Messages that wait for the store. A phone told "registered", or a caller whose call
//! the log says is over, must find that on disk even if the server is killed the next
//! instant; yet the engine must never stop for SQLite. So what the engine sends after a
//! store write is held here until the writer says it committed, and whatever the engine
//! sends meanwhile queues behind it: every peer sees the messages in the order made.

use std::collections::VecDeque;

use tokio::sync::oneshot;

#[derive(Debug)]
pub struct AfterCommit<T> {
    waiting: VecDeque<(oneshot::Receiver<()>, Vec<T>)>,
}

impl<T> Default for AfterCommit<T> {
    fn default() -> Self {
        AfterCommit {
            waiting: VecDeque::new(),
        }
    }
}

impl<T> AfterCommit<T> {
    /// Holds `items` until `committed` fires (or the writer is gone).
    pub fn hold(&mut self, committed: oneshot::Receiver<()>, items: Vec<T>) {
        self.waiting.push_back((committed, items));
    }

    /// Queues `items` behind what is held; gives them back, to go now, when nothing is.
    pub fn behind(&mut self, items: Vec<T>) -> Vec<T> {
        match self.waiting.back_mut() {
            Some((_, held)) => {
                held.extend(items);
                Vec::new()
            }
            None => items,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// What the oldest commit released; never ready while nothing is held. Safe to drop
    /// unfinished (as `select!` does): nothing is taken out before the commit is seen.
    pub async fn released(&mut self) -> Vec<T> {
        let Some((committed, _)) = self.waiting.front_mut() else {
            return std::future::pending().await;
        };
        let _ = committed.await;
        self.waiting
            .pop_front()
            .map(|(_, items)| items)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn ready<T>(held: &mut AfterCommit<T>) -> Option<Vec<T>> {
        tokio::time::timeout(Duration::from_millis(20), held.released())
            .await
            .ok()
    }

    #[tokio::test]
    async fn nothing_held_goes_at_once() {
        let mut held = AfterCommit::default();
        assert_eq!(held.behind(vec![1, 2]), vec![1, 2]);
        assert!(ready(&mut held).await.is_none(), "nothing to release");
    }

    #[tokio::test]
    async fn what_comes_later_waits_behind_the_commit_in_order() {
        let mut held = AfterCommit::default();
        let (first_done, first) = oneshot::channel();
        held.hold(first, vec![1]);
        assert!(held.behind(vec![2]).is_empty());
        let (second_done, second) = oneshot::channel();
        held.hold(second, vec![3]);
        assert!(held.behind(vec![4]).is_empty());

        assert!(ready(&mut held).await.is_none(), "nothing committed yet");
        second_done.send(()).unwrap();
        assert!(
            ready(&mut held).await.is_none(),
            "the second commit waits for the first"
        );
        first_done.send(()).unwrap();
        assert_eq!(ready(&mut held).await, Some(vec![1, 2]));
        assert_eq!(ready(&mut held).await, Some(vec![3, 4]));
        assert!(held.is_empty());
    }

    #[tokio::test]
    async fn a_writer_that_is_gone_releases_what_it_held() {
        let mut held = AfterCommit::default();
        let (done, committed) = oneshot::channel::<()>();
        held.hold(committed, vec!["answer"]);
        drop(done);
        assert_eq!(ready(&mut held).await, Some(vec!["answer"]));
    }
}
