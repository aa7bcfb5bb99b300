package tests

import "github.com/google/uuid"

var masterID = uuid.MustParse("11111111-1111-4111-8111-111111111111")
