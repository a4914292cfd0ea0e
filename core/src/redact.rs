//! `Debug` for types that hold secrets: the named fields are shown, the rest print as `[redacted]`, so a
//! stray `{:?}` in a log line cannot leak a password, token or key.

#[macro_export]
macro_rules! debug_redacting {
    ($ty:ident { shown: [$($shown:ident),* $(,)?], redacted: [$($hidden:ident),* $(,)?] }) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($shown), &self.$shown))*
                    $(.field(stringify!($hidden), &"[redacted]"))*
                    .finish()
            }
        }
    };
}

#[cfg(test)]
mod tests {
    struct Login {
        user: String,
        password: String,
    }
    debug_redacting!(Login { shown: [user], redacted: [password] });

    #[test]
    fn redacted_fields_never_print() {
        let login = Login { user: "sam".into(), password: "hunter2".into() };
        let text = format!("{login:?}");
        assert!(text.contains("sam") && text.contains("[redacted]") && !text.contains("hunter2"), "{text}");
        let _ = login.password;
    }
}
