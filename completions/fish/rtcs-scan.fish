# fish completion for rtcs-scan(1)
complete -c rtcs-scan -l symbols -x -a 'qr all' -d 'Symbologies to look for'
complete -c rtcs-scan -l json -d 'Print JSON Lines'
complete -c rtcs-scan -s q -l quiet -d 'No message when no code is found'
complete -c rtcs-scan -s v -l verbose -d 'Count the codes in each image'
complete -c rtcs-scan -s h -l help -d 'Print help'
complete -c rtcs-scan -s V -l version -d 'Print version'
