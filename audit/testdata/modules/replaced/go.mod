module example.com/replaced

go 1.26.0

require (
	golang.org/x/text v0.3.2
	gopkg.in/yaml.v2 v2.2.7
)

replace golang.org/x/text => golang.org/x/text v0.42.0
