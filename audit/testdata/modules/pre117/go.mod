module example.com/pre117

go 1.16

require golang.org/x/oauth2 v0.0.0-20200107190931-bf48bf16ab8d
