module github.com/sshwarden/sshwarden

go 1.25

require (
	github.com/coreos/go-systemd/v22 v22.6.0
	github.com/cyphar/filepath-securejoin v0.5.2
	github.com/fsnotify/fsnotify v1.9.0
	github.com/godbus/dbus/v5 v5.1.0
	github.com/google/go-cmp v0.7.0
	github.com/prometheus/procfs v0.16.1
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
)

require golang.org/x/text v0.14.0 // indirect

require (
	github.com/rogpeppe/go-internal v1.14.1
	golang.org/x/sys v0.32.0
	golang.org/x/tools v0.26.0 // indirect
)
