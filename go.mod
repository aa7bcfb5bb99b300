module github.com/famfs-go/famfs

go 1.26.0

require github.com/google/uuid v1.6.0

require golang.org/x/sys v0.49.0 // indirect
