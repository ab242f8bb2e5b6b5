module github.com/sshwarden/sshwarden

go 1.25
