//! Statutory notifications (Care Quality Commission (Registration) Regulations 2009): the catalogue of types,
//! each type's form and its rules, the record with its lifecycle and history, and the receipt's contents.
//! The routes that draft, submit and answer them are the API's (`api/src/notifications`).

pub mod catalogue;
pub mod examples;
pub mod forms;
pub mod model;
pub mod people;
pub mod presentation;
pub mod receipt;
pub mod validation;
pub mod workflow;

pub use catalogue::{NotificationContent, NotificationType};
pub use model::{Action, Event, Filter, Notification, Status};
