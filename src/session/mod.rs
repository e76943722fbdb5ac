//! The workbench's state without a window: the running scene and its MPC agent, the planner
//! thread, the designer's state, presets, plot series, plan trails as draw lists, file export,
//! and the [`Command`]s every user action becomes, handled in one place ([`Workbench`]).
//! Nothing here imports egui, eframe or rfd, so it is driven and tested without a window;
//! `ui` draws it and sends it commands.
pub mod agent;
mod caption;
pub mod command;
pub mod compile;
pub mod designer;
pub mod export;
pub mod live;
pub mod messages;
pub mod options;
pub mod planner_worker;
pub mod presets;
pub mod record;
pub mod scene;
pub mod series;
pub mod trails;
pub mod workbench;

pub use command::{Command, CommandReceiver, CommandSender, FilePrompt, command_channel};
pub use messages::Toast;
pub use options::{AppOptions, StartModel};
pub use scene::{PolicyKind, SceneError, SceneRunner, SceneSource};
pub use workbench::{StartError, View, Workbench};
