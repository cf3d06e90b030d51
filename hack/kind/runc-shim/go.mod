module edgefleet.dev/runc-shim

go 1.26.0
